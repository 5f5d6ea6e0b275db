/**
 * What devices remember across reloads, in its own IndexedDB database `webmk-devices` (apart
 * from the registry's, so neither schema waits on the other): this node's libp2p private key,
 * the paired peers, and the relay setting. Small on purpose: it loads without libp2p.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { KernelError } from '../../common';

/** A paired device: its peer id (a public key) and the relay it is reached through. */
export interface PairedPeer {
  id: string;
  relay: string;
  /** When pairing happened (ms since the epoch). */
  pairedAt: number;
  /** Its name for people, as it last gave it. */
  name?: string;
}

interface DevicesSchema extends DBSchema {
  identity: { key: string; value: Uint8Array };
  peers: { key: string; value: PairedPeer };
  settings: { key: string; value: string };
}

type DevicesDb = IDBPDatabase<DevicesSchema>;

/** Migration N takes the database from version N to N + 1. Append only. */
const MIGRATIONS: Array<(db: DevicesDb) => void> = [
  (db) => {
    db.createObjectStore('identity');
    db.createObjectStore('peers', { keyPath: 'id' });
    db.createObjectStore('settings');
  },
];

let opened: Promise<DevicesDb> | undefined;

async function db(): Promise<DevicesDb> {
  opened ??= openDB<DevicesSchema>('webmk-devices', MIGRATIONS.length, {
    upgrade(d, from) {
      for (const step of MIGRATIONS.slice(from)) step(d);
    },
  }).catch((e: unknown) => {
    opened = undefined;
    throw new KernelError('kernel/storage', `the devices database cannot open: ${e instanceof Error ? e.message : String(e)}`);
  });
  return opened;
}

/** This node's private key (libp2p protobuf form), or undefined before the first start. */
export async function loadIdentity(): Promise<Uint8Array | undefined> {
  const v: unknown = await (await db()).get('identity', 'self');
  return v instanceof Uint8Array ? v : undefined;
}

/** Keeps this node's private key. */
export async function saveIdentity(key: Uint8Array): Promise<void> {
  await (await db()).put('identity', key, 'self');
}

function isPeer(v: unknown): v is PairedPeer {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.id === 'string' && typeof p.relay === 'string' && typeof p.pairedAt === 'number';
}

/** The paired peers, oldest first. */
export async function loadPeers(): Promise<PairedPeer[]> {
  const all: unknown[] = await (await db()).getAll('peers');
  return all.filter(isPeer).sort((a, b) => a.pairedAt - b.pairedAt);
}

/** Remembers (or updates) a paired peer. */
export async function savePeer(peer: PairedPeer): Promise<void> {
  await (await db()).put('peers', peer);
}

/** Forgets a paired peer, and the modules it was always allowed to run here. */
export async function deletePeer(id: string): Promise<void> {
  const d = await db();
  await d.delete('peers', id);
  await d.delete('settings', `allow:${id}`);
}

/** The modules device `peer` may run here without asking (answered "always"). */
export async function loadAllowed(peer: string): Promise<string[]> {
  const v: unknown = await (await db()).get('settings', `allow:${peer}`);
  if (typeof v !== 'string') return [];
  try {
    const list: unknown = JSON.parse(v);
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Remembers that device `peer` may always run `module` here (until the device is forgotten). */
export async function allowAlways(peer: string, module: string): Promise<void> {
  const list = await loadAllowed(peer);
  if (!list.includes(module)) await (await db()).put('settings', JSON.stringify([...list, module]), `allow:${peer}`);
}

/** The relay address setting (a multiaddr), or '' when none is set. */
export async function getRelay(): Promise<string> {
  const v: unknown = await (await db()).get('settings', 'relay');
  return typeof v === 'string' ? v : '';
}

/** Sets the relay address used from the next start. */
export async function setRelay(relay: string): Promise<void> {
  await (await db()).put('settings', relay.trim(), 'relay');
}

/** Whether devices were left on (they turn on again when the page loads). A flag in
 * localStorage, not the database: every page load asks, and a profile that never used devices
 * should not get a database for the answer. */
export async function getEnabled(): Promise<boolean> {
  try {
    return localStorage.getItem('webmk-devices') === 'on';
  } catch {
    return false;
  }
}

/** Records whether devices are on. */
export async function setEnabled(on: boolean): Promise<void> {
  try {
    localStorage.setItem('webmk-devices', on ? 'on' : 'off');
  } catch {
    // Storage refused (a private mode): devices simply do not come back on by themselves.
  }
}
