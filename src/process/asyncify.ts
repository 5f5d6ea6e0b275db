/**
 * The runtime side of a migratable module (ADR 0019): its blocking stdin read, `poll_oneoff`
 * and a bus receive (capabilities/bus.ts asks `shouldPark`) are safe points where the kernel
 * can park it. Parked, Asyncify unwinds its stack into a buffer in its own memory; memory,
 * globals, that buffer and what providers keep are its snapshot. A fresh instance given the
 * snapshot rewinds into the same call and carries on. Its monotonic clock continues across.
 */
import { BLOCKING_IMPORTS, GLOBAL_EXPORT_PREFIX } from '../common';
import { MIGRATE_CONTROL, Ring, type MigrateStart, type Snapshot } from '../ipc';
import type { GuestImports, ParkHooks } from './guest';
import { POLL_PARKED, type PollPark } from './wasi';

/** Asyncify's state, as `asyncify_get_state` reports it. */
const STATE = { normal: 0, unwinding: 1, rewinding: 2 } as const;
/** Bytes below the stack pointer left alone, and the room for the unwound frames under them. */
const STACK_MARGIN = 256;
const DATA_BYTES = 16 * 1024;
const CLOCK_MONOTONIC = 1;

interface AsyncifyExports {
  asyncify_start_unwind(addr: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(addr: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
}

type Imports = Record<string, unknown>;

/** True when an instance carries Asyncify's exports (the registry's instrumented bytes). */
export function isInstrumented(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.exports(module).some((e) => e.name === 'asyncify_start_unwind');
}

/** The `webmk` imports a migratable process may be parked in. */
const WEBMK_BLOCKING = new Set(BLOCKING_IMPORTS.filter((i) => i.startsWith('webmk.')).map((i) => i.slice('webmk.'.length)));

/** One migratable process: wraps its imports, restores a snapshot, captures one once parked. */
export class Parkable implements ParkHooks {
  private instance: WebAssembly.Instance | undefined;
  private readonly control: Int32Array;
  private readonly stdin: Ring;
  /** Added to the monotonic clock so it continues from the snapshot's (ns). */
  private clockOffsetNs = 0;
  private dataAddr = 0;
  private parked = false;
  private parkedIn = '';
  private readonly keepers = new Map<string, () => unknown>();

  constructor(private readonly m: MigrateStart, stdin: SharedArrayBuffer) {
    this.control = new Int32Array(m.control);
    this.stdin = new Ring(stdin);
    if (m.resume !== undefined) this.clockOffsetNs = m.resume.monotonicNs - performance.now() * 1e6;
  }

  /** Its WASI imports with the safe points in `fd_read` and `poll_oneoff`, and the continuous clock. */
  wrap(wasi: Imports): Imports {
    const fdRead = wasi.fd_read as (fd: number, iovs: number, n: number, out: number) => number;
    const clock = wasi.clock_time_get as (id: number, precision: bigint, out: number) => number;
    const poll = wasi.poll_oneoff as (inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) => number;
    return {
      ...wasi,
      fd_read: (fd: number, iovs: number, n: number, out: number): number => {
        const ax = this.asyncify();
        // Resumed: the rewind has reached the read it was parked in, which now runs for real.
        if (ax.asyncify_get_state() === STATE.rewinding) ax.asyncify_stop_rewind();
        if (fd === 0 && this.waitOrPark()) return this.unwind('fd_read');
        return fdRead(fd, iovs, n, out);
      },
      poll_oneoff: (inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): number => {
        const ax = this.asyncify();
        // Resumed: the poll it was parked in runs again from the start (a relative timeout in full).
        if (ax.asyncify_get_state() === STATE.rewinding) ax.asyncify_stop_rewind();
        const r = poll(inPtr, outPtr, nsubs, neventsPtr);
        return r === POLL_PARKED ? this.unwind('poll_oneoff') : r;
      },
      clock_time_get: (id: number, precision: bigint, out: number): number => {
        const ret = clock(id, precision, out);
        if (ret === 0 && id === CLOCK_MONOTONIC && this.clockOffsetNs !== 0) {
          const view = new DataView(this.memory().buffer);
          const t = view.getBigUint64(out, true) + BigInt(Math.round(this.clockOffsetNs));
          view.setBigUint64(out, t < 0n ? 0n : t, true);
        }
        return ret;
      },
    };
  }

  /**
   * Its blocking `webmk` imports: each, called again by the rewind into the call it was parked
   * in, ends the rewind and runs for real (the provider parks it, via `park`).
   */
  wrapWebmk(webmk: GuestImports): GuestImports {
    const out: GuestImports = { ...webmk };
    for (const [name, f] of Object.entries(webmk)) {
      if (!WEBMK_BLOCKING.has(name) || typeof f !== 'function') continue;
      out[name] = (...args: number[]): number => {
        const ax = this.asyncify();
        if (ax.asyncify_get_state() === STATE.rewinding) ax.asyncify_stop_rewind();
        return f(...args);
      };
    }
    return out;
  }

  /** What its polls wait on, so that the kernel's request to park wakes them (poll.ts). */
  pollPark(): PollPark {
    return { stop: () => this.shouldPark(), words: this.control, index: MIGRATE_CONTROL.park };
  }

  shouldPark(): boolean {
    return Atomics.load(this.control, MIGRATE_CONTROL.park) !== 0;
  }

  park(where: string): number {
    return this.unwind(where);
  }

  rewound(): void {
    const ax = this.asyncify();
    if (ax.asyncify_get_state() === STATE.rewinding) ax.asyncify_stop_rewind();
  }

  keep(provider: string, capture: () => unknown): void {
    this.keepers.set(provider, capture);
  }

  kept(provider: string): unknown {
    return this.m.resume?.providers[provider];
  }

  /** Binds the instance; with a snapshot, restores it and sets Asyncify to rewind on `_start`. */
  bind(instance: WebAssembly.Instance): void {
    this.instance = instance;
    const snap = this.m.resume;
    if (snap === undefined) return;
    const mem = this.memory();
    const pages = snap.memory.byteLength / 65536 - mem.buffer.byteLength / 65536;
    if (pages > 0) mem.grow(pages);
    new Uint8Array(mem.buffer).set(snap.memory);
    for (const [name, value] of snap.globals) {
      const g = instance.exports[name];
      if (g instanceof WebAssembly.Global) g.value = value;
    }
    // Copied in: the start message (kept while the process runs) need not hold a second copy.
    snap.memory = new Uint8Array(0);
    this.asyncify().asyncify_start_rewind(snap.data);
  }

  /** After `_start` returned: whether it returned because it was parked (then `capture`). */
  get unwound(): boolean {
    return this.parked;
  }

  /** The snapshot of a process parked and unwound. */
  capture(): Snapshot {
    const ax = this.asyncify();
    ax.asyncify_stop_unwind();
    const instance = this.instance;
    if (instance === undefined) throw new Error('no instance');
    const globals: Array<[string, number | bigint]> = [];
    const providers: Record<string, unknown> = {};
    for (const [name, capture] of this.keepers) providers[name] = capture();
    for (const [name, g] of Object.entries(instance.exports)) {
      if (name.startsWith(GLOBAL_EXPORT_PREFIX) && g instanceof WebAssembly.Global) globals.push([name, g.value as number | bigint]);
    }
    return {
      v: 1,
      memory: new Uint8Array(this.memory().buffer).slice(),
      globals,
      data: this.dataAddr,
      monotonicNs: performance.now() * 1e6 + this.clockOffsetNs,
      parkedIn: this.parkedIn,
      providers,
    };
  }

  /**
   * Waits for stdin like the read would, but gives up the wait when the kernel asks it to park;
   * true: park now (nothing was read).
   */
  private waitOrPark(): boolean {
    const asked = (): boolean => Atomics.load(this.control, MIGRATE_CONTROL.park) !== 0;
    if (this.stdin.available() > 0 || this.stdin.writerClosed) return false;
    Atomics.store(this.control, MIGRATE_CONTROL.parkable, 1);
    try {
      return this.stdin.waitReadable(Infinity, asked) === 'stopped';
    } finally {
      Atomics.store(this.control, MIGRATE_CONTROL.parkable, 0);
    }
  }

  /** Starts unwinding into a buffer just under the C stack pointer (free stack, untouched until the rewind has read it). */
  private unwind(where: string): number {
    const sp = this.stackPointer();
    const end = (sp - STACK_MARGIN) & ~7;
    const start = (end - DATA_BYTES) & ~7;
    if (start < 8) throw new Error(`cannot park in ${where}: no room under the stack pointer`);
    const view = new DataView(this.memory().buffer);
    view.setUint32(start, start + 8, true);
    view.setUint32(start + 4, end, true);
    this.dataAddr = start;
    this.parked = true;
    this.parkedIn = where;
    this.asyncify().asyncify_start_unwind(start);
    return 0;
  }

  /** The C stack pointer: the first exported global copy (wasm-ld makes `__stack_pointer` global 0). */
  private stackPointer(): number {
    const g = this.instance?.exports[`${GLOBAL_EXPORT_PREFIX}0`];
    if (!(g instanceof WebAssembly.Global) || typeof g.value !== 'number') throw new Error('the module exports no stack pointer');
    return g.value;
  }

  private memory(): WebAssembly.Memory {
    const mem = this.instance?.exports.memory;
    if (!(mem instanceof WebAssembly.Memory)) throw new Error('the module exports no memory');
    return mem;
  }

  private asyncify(): AsyncifyExports {
    const e = this.instance?.exports as unknown as Partial<AsyncifyExports> | undefined;
    if (typeof e?.asyncify_start_unwind !== 'function') throw new Error('the module is not instrumented');
    return e as AsyncifyExports;
  }
}
