/**
 * A process snapshot (ADR 0019) as it crosses a link, for `setMode(pid, 'remote', { node })`
 * (ADR 0029): a link carries JSON values and bytes, so a 64-bit global goes as its decimal text,
 * tagged; the receiver checks the result as any snapshot (`parseSnapshot`).
 */
import { KernelError } from '../common';
import { parseSnapshot, type Snapshot } from '../ipc';

/** A snapshot in the link's value set. */
export interface WireSnapshot {
  memory: Uint8Array;
  /** `[name, 'n', number]` or `[name, 'b', decimal text of a bigint]`. */
  globals: Array<[string, 'n', number] | [string, 'b', string]>;
  data: number;
  monotonicNs: number;
  parkedIn: string;
  providers: Record<string, unknown>;
}

/** The snapshot ready to send. */
export function toWire(s: Snapshot): WireSnapshot {
  return {
    memory: s.memory,
    globals: s.globals.map(([n, v]) => (typeof v === 'bigint' ? [n, 'b', v.toString()] : [n, 'n', v])),
    data: s.data,
    monotonicNs: s.monotonicNs,
    parkedIn: s.parkedIn,
    // Only plain data crosses: what a provider keeps is JSON or nothing (a move refuses bus subscriptions).
    providers: JSON.parse(JSON.stringify(s.providers)) as Record<string, unknown>,
  };
}

/** The snapshot a link carried; throws `remote/malformed` for anything else. */
export function fromWire(x: unknown): Snapshot {
  const r = (typeof x === 'object' && x !== null && !Array.isArray(x) ? x : {}) as Record<string, unknown>;
  const globals = Array.isArray(r.globals) ? r.globals : [];
  try {
    return parseSnapshot({
      ...r,
      v: 1,
      globals: globals.map((g: unknown) => {
        if (!Array.isArray(g) || g.length !== 3 || typeof g[0] !== 'string') throw new Error('bad global');
        if (g[1] === 'n' && typeof g[2] === 'number') return [g[0], g[2]];
        if (g[1] === 'b' && typeof g[2] === 'string' && /^-?\d{1,20}$/.test(g[2])) return [g[0], BigInt(g[2])];
        throw new Error('bad global');
      }),
    });
  } catch {
    throw new KernelError('remote/malformed', 'a remote message was malformed: bad snapshot');
  }
}
