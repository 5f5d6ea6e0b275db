/**
 * The store's guest calls (`kv.get`, `kv.set`, ...), what modules' imports and JS modules'
 * handles ask. Each checks the caller's grant for the group; a refusal is logged
 * (`kernel.denied()`) and rejects with `kv/denied`. Values cross as `{ text }` or
 * `{ base64 }`, which both reply paths (sync buffer, message) carry.
 */
import type { CapabilityHost, Caller } from '../capability';
import { KernelError, kvAllowed } from '../common';
import { fromBase64, toBase64, unthrottledTimer } from '../ipc';
import { KV_LIMITS, checkGroup, type KvValue } from './limits';
import type { ModuleWatchers } from './watchers';

/** What the calls need of the store. */
export interface KvCallTarget {
  get(group: string, key: string): Promise<KvValue | undefined>;
  set(group: string, key: string, value: KvValue, opts?: { expect?: KvValue | null }): Promise<void>;
  delete(group: string, key: string): Promise<boolean>;
  keys(group: string): Promise<string[]>;
  readonly modules: ModuleWatchers;
}

/** The longest a module's `kv.next` waits, ms. */
const MAX_WAIT_MS = 60_000;

/** A value on the wire. */
export type WireValue = { text: string } | { base64: string };

function toWire(v: KvValue): WireValue {
  return typeof v === 'string' ? { text: v } : { base64: toBase64(v) };
}

function fromWire(w: unknown): KvValue | null | undefined {
  if (w === undefined || w === null) return w;
  if (w instanceof Uint8Array || typeof w === 'string') return w;
  const o = w as { text?: unknown; base64?: unknown };
  if (typeof o.text === 'string') return o.text;
  if (typeof o.base64 === 'string') return fromBase64(o.base64);
  throw new KernelError('kernel/bad-argument', 'a value is text or bytes');
}

function argsOf(args: unknown): Record<string, unknown> {
  return typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {};
}

/** Registers the store's calls on the host's call table. */
export function registerKvCalls(host: CapabilityHost, kv: KvCallTarget): void {
  const need = (caller: Caller, access: 'read' | 'write', group: unknown): string => {
    const g = checkGroup(group);
    if (kvAllowed(caller.grants, access, g)) return g;
    host.denied(caller, `kv:${access}:${g}`);
    throw new KernelError('kv/denied', `"${caller.name}" was not granted kv:${access}:${g}`, { permission: `kv:${access}:${g}` });
  };
  host.calls.handle('kv.get', async (caller, args) => {
    const a = argsOf(args);
    const v = await kv.get(need(caller, 'read', a.group), a.key as string);
    return { value: v === undefined ? null : toWire(v) };
  });
  host.calls.handle('kv.set', async (caller, args) => {
    const a = argsOf(args);
    const value = fromWire(a.value);
    if (value === null || value === undefined) throw new KernelError('kernel/bad-argument', 'kv.set takes a value');
    const expect = 'expect' in a ? fromWire(a.expect) : undefined;
    await kv.set(need(caller, 'write', a.group), a.key as string, value, expect === undefined ? {} : { expect });
    return { value: null };
  });
  host.calls.handle('kv.delete', async (caller, args) => {
    const a = argsOf(args);
    return { value: await kv.delete(need(caller, 'write', a.group), a.key as string) };
  });
  host.calls.handle('kv.keys', async (caller, args) => {
    return { value: await kv.keys(need(caller, 'read', argsOf(args).group)) };
  });
  host.calls.handle('kv.watch', (caller, args) => {
    kv.modules.watch(caller.pid, need(caller, 'read', argsOf(args).group));
    return { value: null };
  });
  host.calls.handle('kv.unwatch', (caller, args) => {
    kv.modules.unwatch(caller.pid, checkGroup(argsOf(args).group));
    return { value: null };
  });
  // Blocks the module (its sync call) until something it watches changes, or the wait ends.
  host.calls.handle('kv.next', async (caller, args) => {
    const a = argsOf(args);
    const wait = typeof a.timeoutMs === 'number' && a.timeoutMs >= 0 ? Math.min(a.timeoutMs, MAX_WAIT_MS) : MAX_WAIT_MS;
    const room = typeof a.room === 'number' && a.room > 0 ? a.room : KV_LIMITS.maxPending * 64;
    if (!kv.modules.watching(caller.pid)) throw new KernelError('kernel/bad-argument', 'kv.next before any kv.watch would wait forever');
    const timer = unthrottledTimer(wait);
    try {
      return { value: await kv.modules.next(caller.pid, room, timer.fired) };
    } finally {
      timer.cancel();
    }
  });
}
