/**
 * Linked imports (lunatic's import providers): a module imports `fn` from a namespace that is
 * neither WASI nor `webmk` nor Extism's, and each call goes to the kernel (`import.call`), which
 * runs the function the page provided under that namespace, or calls export `fn` of the installed
 * service module of that name. One ABI for both, blocking like `webmk_call`:
 *
 *   int32_t fn(const void *in, uint32_t in_len, void *out, uint32_t out_cap)
 *
 * returns the output's full length with at most `out_cap` bytes copied (like snprintf), the
 * number a page function returned, or -errno (the codes of `webmk_call`).
 */
import { Errno, isModuleName } from '../../common';
import { fromBase64 } from '../../ipc';
import type { GuestContext, GuestImports } from '../guest';
import { callService } from './direct';
import { serviceErrno } from './services';

/** Namespaces never linked: a C toolchain's undefined symbols land in `env`, and should trap. */
const NOT_LINKED = new Set(['env', 'webmk', 'wasi']);

/** Whether imports from `namespace` are linked through the kernel. */
export function isLinkedNamespace(namespace: string): boolean {
  return isModuleName(namespace) && !NOT_LINKED.has(namespace) && !namespace.startsWith('wasi_');
}

/** The import `namespace.fn` of one process. */
export function linkedImport(ctx: GuestContext, namespace: string, fn: string): GuestImports[string] {
  const bytes = (ptr: number, len: number): Uint8Array | null => {
    const mem = ctx.memory();
    const p = ptr >>> 0;
    const n = len >>> 0;
    return p + n <= mem.length ? mem.subarray(p, p + n) : null;
  };
  const copyOut = (outPtr: number, outCap: number, out: Uint8Array): number => {
    const dst = bytes(outPtr, Math.min(outCap >>> 0, out.length));
    if (dst === null) return -Errno.FAULT;
    dst.set(out.subarray(0, dst.length));
    return out.length;
  };
  const finish = (outPtr: number, outCap: number) => (answer: unknown): number => {
    const a = (typeof answer === 'object' && answer !== null ? answer : {}) as { base64?: unknown; number?: unknown };
    if (typeof a.number === 'number') return a.number | 0;
    if (typeof a.base64 !== 'string') return -Errno.INVAL;
    return copyOut(outPtr, outCap, fromBase64(a.base64));
  };
  const call = (inPtr = 0, inLen = 0, outPtr = 0, outCap = 0): number | Promise<number> => {
    const input = bytes(inPtr, inLen);
    if (input === null || bytes(outPtr, 0) === null) return -Errno.FAULT;
    if (ctx.suspend) return ctx.call('import.call', { namespace, fn, input: input.slice() }).then(finish(outPtr, outCap), serviceErrno);
    try {
      const answer = callService(ctx, namespace, fn, input, (extra) => ctx.callSync('import.call', { namespace, fn, input: input.slice(), ...extra }));
      return 'number' in answer ? answer.number : copyOut(outPtr, outCap, answer.bytes);
    } catch (e) {
      return serviceErrno(e);
    }
  };
  return ctx.suspend ? ctx.suspending(async (...a) => call(...a)) : (call as (...args: number[]) => number);
}
