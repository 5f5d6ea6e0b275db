/**
 * The key-value store on a JS module's handle (`webmk.kv`): the same guest calls a wasm module's
 * imports make, with the same grants (`kv:read:<group>`, `kv:write:<group>`).
 */
import { KernelError } from '../common';
import { fromBase64 } from '../ipc';
import type { GuestContext } from './guest';

/** What changed: per group, the keys (`*`: too many to list, re-read the group). */
export interface ScriptKvChange {
  group: string;
  keys: string[];
}

/** `webmk.kv`. */
export interface ScriptKv {
  /** The value under `key` (text stays text), or undefined; rejects with `kv/denied` without `kv:read:<group>`. */
  get(group: string, key: string): Promise<Uint8Array | string | undefined>;
  /** Stores `value` whole; with `expect` only if the stored value is it (null: absent), else `kv/conflict`. */
  set(group: string, key: string, value: Uint8Array | string, opts?: { expect?: Uint8Array | string | null }): Promise<void>;
  /** Removes `key`; true when it was there. */
  delete(group: string, key: string): Promise<boolean>;
  keys(group: string): Promise<string[]>;
  /** Watches `group`: the changes, as they come, until `close`. */
  watch(group: string): Promise<AsyncIterable<ScriptKvChange> & { close(): Promise<void> }>;
}

type Wrap = <A extends unknown[], R>(f: (...args: A) => R) => (...args: A) => R;

function toWire(v: unknown): { text: string } | Uint8Array {
  if (typeof v === 'string') return { text: v };
  if (v instanceof Uint8Array) return v.slice();
  throw new KernelError('kernel/bad-argument', 'a value is a string or a Uint8Array');
}

/** One `watch` of the module: the changes of its group not yet taken. */
interface Stream {
  group: string;
  queue: ScriptKvChange[];
  wake: (() => void) | undefined;
  open: boolean;
}

/** The store for one JS module; `w` brackets each call for the watchdog. */
export function scriptKv(ctx: GuestContext, w: Wrap): ScriptKv {
  // A module has one queue of changes in the kernel (kv.next): one loop takes them and hands
  // each to the watches of its group, so two watches never take each other's changes.
  const streams = new Set<Stream>();
  let pumping = false;
  const pump = (): void => {
    if (pumping) return;
    pumping = true;
    void (async () => {
      try {
        while (streams.size > 0) {
          const changes = await ctx.call('kv.next', { timeoutMs: 60_000 });
          if (!Array.isArray(changes)) continue;
          for (const c of changes as ScriptKvChange[]) {
            for (const s of streams) {
              if (s.group !== c.group) continue;
              s.queue.push({ group: c.group, keys: [...c.keys] });
              s.wake?.();
              s.wake = undefined;
            }
          }
        }
      } catch {
        // The process is ending: its watches end with it.
        for (const s of streams) s.wake?.();
      } finally {
        pumping = false;
      }
    })();
  };
  return {
    get: w(async (group: string, key: string) => {
      const v = (await ctx.call('kv.get', { group, key })) as { text?: unknown; base64?: unknown } | null;
      if (v === null) return undefined;
      if (typeof v.text === 'string') return v.text;
      if (typeof v.base64 === 'string') return fromBase64(v.base64);
      throw new KernelError('ipc/malformed', 'kv.get answered in an unknown shape');
    }),
    set: w(async (group: string, key: string, value: Uint8Array | string, opts: { expect?: Uint8Array | string | null } = {}) => {
      const args: Record<string, unknown> = { group, key, value: toWire(value) };
      if (opts.expect !== undefined) args.expect = opts.expect === null ? null : toWire(opts.expect);
      await ctx.call('kv.set', args);
    }),
    delete: w(async (group: string, key: string) => (await ctx.call('kv.delete', { group, key })) === true),
    keys: w(async (group: string) => {
      const keys = await ctx.call('kv.keys', { group });
      return Array.isArray(keys) ? keys.map(String) : [];
    }),
    watch: w(async (group: string) => {
      await ctx.call('kv.watch', { group });
      const stream: Stream = { group, queue: [], wake: undefined, open: true };
      streams.add(stream);
      pump();
      const wait = w(() => new Promise<void>((ok) => (stream.wake = ok)));
      return {
        async *[Symbol.asyncIterator]() {
          while (stream.open) {
            const next = stream.queue.shift();
            if (next !== undefined) yield next;
            else await wait();
          }
        },
        close: w(async () => {
          stream.open = false;
          streams.delete(stream);
          stream.wake?.();
          if (![...streams].some((s) => s.group === group)) await ctx.call('kv.unwatch', { group });
        }),
      };
    }),
  };
}
