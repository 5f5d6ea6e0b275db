/**
 * The key-value store for wasm modules (see modules/include/webmk.h): `webmk_kv_get`, `_set`,
 * `_cas`, `_delete`, `_keys`, `_watch`, `_unwatch`, `_next`. Each blocks the module until the
 * kernel answers. Answers are copied like snprintf: what fits, and the full length returned.
 */
import { Errno, KernelError, isKernelError } from '../../common';
import { fromBase64, toBase64 } from '../../ipc';
import { ProcessKilled, type GuestContext, type GuestImports } from '../guest';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
/** `webmk_kv_cas`'s expected length meaning "must be absent". */
const ABSENT = 0xffffffff;
/** The least room `webmk_kv_next` needs: one line of the longest group and key. */
const MIN_NEXT_ROOM = 512;

/** A refused store call as -errno; a killed process unwinds instead. */
function kvErrno(e: unknown): number {
  if (e instanceof ProcessKilled) throw e;
  if (!isKernelError(e)) return -Errno.INVAL;
  const map: Partial<Record<KernelError['code'], number>> = {
    'kv/denied': -Errno.ACCES,
    'kv/too-large': -Errno.MSGSIZE,
    'kv/quota': -Errno.NOSPC,
    'kv/conflict': -Errno.AGAIN,
    'ipc/too-large': -Errno.MSGSIZE,
    'kernel/storage': -Errno.IO,
  };
  return map[e.code] ?? -Errno.INVAL;
}

class Fault extends Error {}

/** Builds the store imports of one process. */
export function kvImports(ctx: GuestContext): GuestImports {
  const bytes = (ptr: number, len: number): Uint8Array => {
    const mem = ctx.memory();
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (p + n > mem.length) throw new Fault();
    return mem.subarray(p, p + n);
  };
  const text = (ptr: number, len: number): string => {
    try {
      return dec.decode(bytes(ptr, len));
    } catch (e) {
      if (e instanceof Fault) throw e;
      throw new KernelError('kv/invalid-name', 'names are UTF-8');
    }
  };
  /** Copies what fits, returns the full length. */
  const copyOut = (outPtr: number, cap: number, data: Uint8Array): number => {
    const dst = bytes(outPtr, Math.min(cap >>> 0, data.length));
    dst.set(data.subarray(0, dst.length));
    return data.length;
  };
  /** Runs `f` (which may call the kernel), turning refusals into -errno. */
  const guarded = (f: (...a: number[]) => unknown, finish: (answer: unknown, ...a: number[]) => number): GuestImports[string] => {
    if (ctx.suspend) {
      return ctx.suspending(async (...a) => {
        try {
          const req = f(...a) as { call: string; args: unknown };
          return finish(await ctx.call(req.call, req.args), ...a);
        } catch (e) {
          return e instanceof Fault ? -Errno.FAULT : kvErrno(e);
        }
      });
    }
    return (...a: number[]) => {
      try {
        const req = f(...a) as { call: string; args: unknown };
        return finish(ctx.callSync(req.call, req.args), ...a);
      } catch (e) {
        return e instanceof Fault ? -Errno.FAULT : kvErrno(e);
      }
    };
  };
  const wire = (p: number, n: number): { base64: string } => ({ base64: toBase64(bytes(p, n)) });
  return {
    kv_get: guarded(
      (g = 0, gl = 0, k = 0, kl = 0) => ({ call: 'kv.get', args: { group: text(g, gl), key: text(k, kl) } }),
      (answer, _g, _gl, _k, _kl, out = 0, cap = 0) => {
        const v = answer as { text?: unknown; base64?: unknown } | null;
        if (v === null) return -Errno.NOENT;
        const data = typeof v.text === 'string' ? enc.encode(v.text) : typeof v.base64 === 'string' ? fromBase64(v.base64) : null;
        return data === null ? -Errno.INVAL : copyOut(out, cap, data);
      },
    ),
    kv_set: guarded(
      (g = 0, gl = 0, k = 0, kl = 0, v = 0, vl = 0) => ({ call: 'kv.set', args: { group: text(g, gl), key: text(k, kl), value: wire(v, vl) } }),
      () => 0,
    ),
    kv_cas: guarded(
      (g = 0, gl = 0, k = 0, kl = 0, e = 0, el = 0, v = 0, vl = 0) => ({
        call: 'kv.set',
        args: { group: text(g, gl), key: text(k, kl), value: wire(v, vl), expect: el >>> 0 === ABSENT ? null : wire(e, el) },
      }),
      () => 0,
    ),
    kv_delete: guarded(
      (g = 0, gl = 0, k = 0, kl = 0) => ({ call: 'kv.delete', args: { group: text(g, gl), key: text(k, kl) } }),
      (answer) => (answer === true ? 1 : 0),
    ),
    kv_keys: guarded(
      (g = 0, gl = 0) => ({ call: 'kv.keys', args: { group: text(g, gl) } }),
      (answer, _g, _gl, out = 0, cap = 0) => (Array.isArray(answer) ? copyOut(out, cap, enc.encode(answer.map((k) => `${String(k)}\n`).join(''))) : -Errno.INVAL),
    ),
    kv_watch: guarded((g = 0, gl = 0) => ({ call: 'kv.watch', args: { group: text(g, gl) } }), () => 0),
    kv_unwatch: guarded((g = 0, gl = 0) => ({ call: 'kv.unwatch', args: { group: text(g, gl) } }), () => 0),
    kv_next: guarded(
      (timeoutMs = 0, out = 0, cap = 0) => {
        bytes(out, cap);
        if (cap >>> 0 < MIN_NEXT_ROOM) throw new KernelError('kernel/bad-argument', `kv_next needs at least ${MIN_NEXT_ROOM} bytes`);
        return { call: 'kv.next', args: { timeoutMs: timeoutMs < 0 ? 60_000 : timeoutMs, room: cap >>> 0 } };
      },
      (answer, _t, out = 0, cap = 0) => {
        if (!Array.isArray(answer)) return -Errno.INVAL;
        const lines = (answer as Array<{ group: string; keys: string[] }>).flatMap((c) => c.keys.map((k) => `${c.group}\t${k}\n`)).join('');
        return copyOut(out, cap, enc.encode(lines));
      },
    ),
  };
}
