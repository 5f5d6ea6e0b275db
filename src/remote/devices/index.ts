/**
 * Devices: other browsers reached through js-libp2p (WebRTC, met through a circuit relay),
 * paired by a link, remembered and redialled; each connection to one is a Link. libp2p is
 * loaded only when devices are turned on (`startDevices` imports it: a chunk of its own).
 * One tab per browser profile runs devices (a Web Lock), since all tabs share one identity.
 */
import { KernelError } from '../../common';
import { getEnabled, getRelay, setEnabled, setRelay } from './store';
import type { Link } from '../link';
import type { Devices, DevicesOptions } from './types';

export type { Devices, DevicesEvent, DevicesOptions, DeviceInfo } from './types';
export type { PairedPeer } from './store';
export { allowAlways, getRelay, loadAllowed, setRelay } from './store';
export { parsePairingLink } from './protocol';

/**
 * Turns devices on: loads libp2p, creates or loads this node's identity, takes a reservation on
 * the relay (`options.relay`, else the stored setting) and redials the paired devices. Rejects
 * `remote/no-relay` (none set), `remote/relay-unreachable`, `remote/devices-busy` (another tab
 * of this browser has them on), `kernel/bad-argument` (not a multiaddr).
 */
export async function startDevices(options: DevicesOptions = {}): Promise<Devices> {
  const relay = options.relay ?? (await getRelay());
  if (relay === '') throw new KernelError('remote/no-relay', 'no relay address is set for devices');
  const release = await holdLock();
  try {
    const { start } = await import('./devices');
    const devices = await start({ ...options, relay });
    return {
      ...devices,
      stop: async () => {
        try {
          await devices.stop();
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/** Takes the profile-wide devices lock, or rejects `remote/devices-busy`; resolves with its release. */
async function holdLock(): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const got = await new Promise<boolean>((resolve) => {
    navigator.locks
      .request('webmk-devices', { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock === null ? undefined : held;
      })
      .catch(() => resolve(false));
  });
  if (!got) throw new KernelError('remote/devices-busy', 'another tab of this browser has devices turned on');
  return release;
}

/** The page's one devices switch: on, off, and what is on now (the shell and scripts share it). */
export interface DevicesHandle {
  /** The running devices, or undefined while off. */
  readonly current: Devices | undefined;
  /** Turns devices on (see `startDevices`); resolves with the running ones if already on. Remembers the relay and that devices are on. */
  start(options?: DevicesOptions): Promise<Devices>;
  /** Turns devices off. */
  stop(): Promise<void>;
  /** The relay address setting ('' when none). */
  getRelay(): Promise<string>;
  /** Sets the relay address used from the next start. */
  setRelay(relay: string): Promise<void>;
  /** Calls `fn` when devices turn on or off. */
  onChange(fn: () => void): () => void;
  /** Turns devices on if they were on when the page last ran (so paired devices reconnect after a reload); never rejects. */
  resume(): Promise<void>;
  /** Why the last start (or resume) failed, if it did. */
  readonly lastError: unknown;
}

/** Makes the page's devices switch. */
export function createDevicesHandle(): DevicesHandle {
  let current: Devices | undefined;
  let starting: Promise<Devices> | undefined;
  let lastError: unknown;
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const fn of listeners) fn();
  };
  const handle: DevicesHandle = {
    get current() {
      return current;
    },
    start(options) {
      if (current !== undefined) return Promise.resolve(current);
      starting ??= startDevices(options).then(
        (d) => {
          current = d;
          starting = undefined;
          lastError = undefined;
          // What started is remembered: the relay it used becomes the setting, and "on" the state.
          void setRelay(d.relay)
            .then(() => setEnabled(true))
            .catch(() => {});
          changed();
          return d;
        },
        (e: unknown) => {
          starting = undefined;
          lastError = e;
          changed();
          throw e;
        },
      );
      return starting;
    },
    async stop() {
      const d = current;
      current = undefined;
      await setEnabled(false).catch(() => {});
      if (d !== undefined) await d.stop();
      changed();
    },
    async resume() {
      try {
        if (await getEnabled()) await handle.start();
      } catch {
        // Kept in lastError for the panel.
      }
    },
    get lastError() {
      return lastError;
    },
    getRelay,
    setRelay,
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  return handle;
}

/**
 * Hands each device link to `attach` (remote mode's `Remote.attach`): those open when devices
 * turn on and each one that opens after, for as long as devices stay on. Returns the stop.
 */
export function followDevices(handle: DevicesHandle, attach: (link: Link) => void): () => void {
  let following: Devices | undefined;
  let off: (() => void) | undefined;
  const sync = (): void => {
    const d = handle.current;
    if (d === following) return;
    off?.();
    off = undefined;
    following = d;
    if (d === undefined) return;
    off = d.subscribe((e) => {
      if (e.type === 'link') attach(e.link);
    });
    for (const l of d.links()) attach(l);
  };
  const unwatch = handle.onChange(sync);
  sync();
  return () => {
    unwatch();
    off?.();
  };
}
