/**
 * Extism's host functions (`extism:host/user`, ADR 0035): a plugin imports functions the page
 * provides. Each call goes to the kernel (`extism.user`) with the plugin's arguments and the
 * Extism memory blocks they name; the page's function runs there on copies of those blocks, and
 * the answer brings back its result and what it changed or made, which land in the plugin's
 * blocks before the import returns. In a worker the plugin blocks meanwhile; on the page it
 * suspends (JSPI).
 */
import { fromBase64, toBase64 } from '../ipc';
import { ExtismFault, type ExtismHost } from './extism';
import type { GuestContext } from './guest';

/** The import module of Extism's host functions. */
export const EXTISM_USER = 'extism:host/user';

/** The kernel's answer to `extism.user`, checked. */
interface UserAnswer {
  /** The result as text (an i64 does not fit JSON's numbers), and its type; no type: the function returns nothing. */
  result?: string;
  type?: 'i32' | 'i64' | 'f32' | 'f64';
  blocks: Array<[number, Uint8Array | null]>;
  error?: string;
}

/** The import `extism:host/user.<fn>` of one plugin instance. */
export function hostFunction(ctx: GuestContext, extism: ExtismHost, fn: string): (...args: unknown[]) => unknown {
  const request = (args: unknown[]): unknown => {
    const { blocks, next } = extism.blocksNamed(args);
    return {
      fn,
      // i64 values travel as text: the answer's channel is JSON.
      args: args.map((a) => (typeof a === 'bigint' ? { i64: a.toString() } : a)),
      blocks: blocks.map(([i, b]) => [i, toBase64(b)]),
      next,
    };
  };
  const finish = (raw: unknown): unknown => {
    const a = parseAnswer(raw);
    extism.applyHostChanges(a.blocks, a.error);
    if (a.type === undefined || a.result === undefined) return undefined;
    return a.type === 'i64' ? BigInt(a.result) : a.type === 'i32' ? Number(a.result) | 0 : Number(a.result);
  };
  if (ctx.suspend) return async (...args: unknown[]) => finish(await ctx.call('extism.user', request(args)));
  return (...args: unknown[]) => finish(ctx.callSync('extism.user', request(args)));
}

function parseAnswer(raw: unknown): UserAnswer {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const bad = (): never => {
    throw new ExtismFault('the kernel answered a host function call in an unknown shape');
  };
  const blocks: Array<[number, Uint8Array | null]> = [];
  for (const e of Array.isArray(r.blocks) ? (r.blocks as unknown[]) : bad()) {
    if (!Array.isArray(e) || typeof e[0] !== 'number' || !(e[1] === null || typeof e[1] === 'string')) return bad();
    blocks.push([e[0], e[1] === null ? null : fromBase64(e[1])]);
  }
  const type = r.type;
  if (type !== undefined && type !== 'i32' && type !== 'i64' && type !== 'f32' && type !== 'f64') return bad();
  if ((r.result !== undefined && typeof r.result !== 'string') || (r.error !== undefined && typeof r.error !== 'string')) return bad();
  return {
    blocks,
    ...(type !== undefined ? { type } : {}),
    ...(typeof r.result === 'string' ? { result: r.result } : {}),
    ...(typeof r.error === 'string' ? { error: r.error } : {}),
  };
}
