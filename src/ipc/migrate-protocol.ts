/**
 * What crosses between the kernel and a migratable process's runtime (ADR 0019): how the kernel
 * asks it to park, and the snapshot it answers with. Types, names and the snapshot's parser.
 */
import { KernelError } from '../common';

/** The guest call (a notice) that carries a parked process's snapshot to the kernel. */
export const PARK_CALL = 'process.parked';

/** Words of the control buffer the kernel and a migratable process share. */
export const MIGRATE_CONTROL = {
  /** Nonzero: park at the next blocking import (the kernel sets it, then wakes the process). */
  park: 0,
  /** Nonzero while the process waits in a blocking import where it can be parked. */
  parkable: 1,
} as const;

/** Bytes of the control buffer. */
export const MIGRATE_CONTROL_BYTES = 8;

/**
 * A parked process's state: its whole linear memory, its exported copies of its mutable globals,
 * where the Asyncify data lies in that memory, and its monotonic clock (which carries on from
 * there, whichever context resumes it).
 */
export interface Snapshot {
  v: 1;
  memory: Uint8Array;
  globals: Array<[string, number | bigint]>;
  /** Address of the Asyncify data structure (its two pointers, then the unwound frames). */
  data: number;
  monotonicNs: number;
  /** The import it is parked in (`fd_read`, `recv`). */
  parkedIn: string;
  /** What the runtime's import providers keep for the process (the bus: its subscriptions), by provider. */
  providers: Record<string, unknown>;
}

/** What a start says to a migratable process: its control buffer, and the snapshot to resume from. */
export interface MigrateStart {
  control: SharedArrayBuffer;
  resume?: Snapshot;
}

/** The kernel's side of a process's control words: ask it to park, or withdraw the request. */
export class MigrateControl {
  readonly sab = new SharedArrayBuffer(MIGRATE_CONTROL_BYTES);
  private readonly words = new Int32Array(this.sab);

  /** Asks the process to park at its next safe point (the caller then wakes it). */
  requestPark(): void {
    Atomics.store(this.words, MIGRATE_CONTROL.park, 1);
    // A poll sleeps on this word (process/wasi/poll.ts).
    Atomics.notify(this.words, MIGRATE_CONTROL.park);
  }

  withdraw(): void {
    Atomics.store(this.words, MIGRATE_CONTROL.park, 0);
  }

  get parkRequested(): boolean {
    return Atomics.load(this.words, MIGRATE_CONTROL.park) !== 0;
  }
}

/** A snapshot as received (from a worker, from storage); `ipc/malformed` if it is not one. */
export function parseSnapshot(data: unknown): Snapshot {
  const r = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const ok =
    r.v === 1 &&
    r.memory instanceof Uint8Array &&
    r.memory.byteLength % 65536 === 0 &&
    Array.isArray(r.globals) &&
    r.globals.every((g) => Array.isArray(g) && g.length === 2 && typeof g[0] === 'string' && (typeof g[1] === 'number' || typeof g[1] === 'bigint')) &&
    Number.isInteger(r.data) &&
    (r.data as number) >= 0 &&
    (r.data as number) < r.memory.byteLength &&
    typeof r.monotonicNs === 'number' &&
    Number.isFinite(r.monotonicNs) &&
    typeof r.parkedIn === 'string' &&
    (r.providers === undefined || (typeof r.providers === 'object' && r.providers !== null && !Array.isArray(r.providers)));
  if (!ok) throw new KernelError('ipc/malformed', 'not a process snapshot');
  return {
    v: 1,
    memory: r.memory as Uint8Array,
    globals: (r.globals as Array<[string, number | bigint]>).map(([n, v]) => [n, v]),
    data: r.data as number,
    monotonicNs: r.monotonicNs as number,
    parkedIn: r.parkedIn as string,
    providers: { ...((r.providers as Record<string, unknown> | undefined) ?? {}) },
  };
}

/** A migrate field of a start message, checked. */
export function isMigrateStart(x: unknown): x is MigrateStart {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  if (!(r.control instanceof SharedArrayBuffer) || r.control.byteLength !== MIGRATE_CONTROL_BYTES) return false;
  if (r.resume === undefined) return true;
  try {
    parseSnapshot(r.resume);
    return true;
  } catch {
    return false;
  }
}
