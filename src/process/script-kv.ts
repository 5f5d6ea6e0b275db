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

/** The store for one JS module; `w` brackets each call for the watchdog. */
export function scriptKv(ctx: GuestContext, w: Wrap): ScriptKv {
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
      let open = true;
      const next = w(() => ctx.call('kv.next', { timeoutMs: 60_000 }));
      return {
        async *[Symbol.asyncIterator]() {
          while (open) {
            const changes = await next();
            if (!Array.isArray(changes)) continue;
            for (const c of changes as ScriptKvChange[]) if (c.group === group && open) yield { group: c.group, keys: [...c.keys] };
          }
        },
        close: w(async () => {
          open = false;
          await ctx.call('kv.unwatch', { group });
        }),
      };
    }),
  };
}
