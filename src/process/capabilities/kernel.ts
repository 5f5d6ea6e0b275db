/**
 * Kernel calls a module may be granted (Orbital's few verbs): `webmk_kernel_list`,
 * `webmk_kernel_ps`, `webmk_kernel_spawn`, `webmk_kernel_kill`. Text answers are lines the
 * module can print or parse; see modules/include/webmk.h. Each blocks the module until the kernel
 * answers: with `Atomics.wait` in a worker, suspended (JSPI) where the realm may not block.
 */
import { Errno, isKernelError } from '../../common';
import { ProcessKilled, type GuestContext, type GuestImports } from '../guest';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** A refusal as -errno; a killed process unwinds instead. */
function errnoOf(e: unknown): number {
  if (e instanceof ProcessKilled) throw e;
  if (isKernelError(e, 'kernel/denied')) return -Errno.ACCES;
  if (isKernelError(e, 'kernel/unknown-module')) return -Errno.NOENT;
  if (isKernelError(e, 'kernel/unknown-process')) return -Errno.SRCH;
  return -Errno.INVAL;
}

/** Builds the kernel-call imports of one process. */
export function kernelImports(ctx: GuestContext): GuestImports {
  const bytes = (ptr: number, len: number): Uint8Array | null => {
    const mem = ctx.memory();
    const p = ptr >>> 0;
    const n = len >>> 0;
    return p + n <= mem.length ? mem.subarray(p, p + n) : null;
  };
  /** Runs a call and `finish`es with its answer; a refusal is -errno. */
  const call = (name: string, args: unknown, finish: (answer: unknown) => number): number | Promise<number> => {
    if (ctx.suspend) return ctx.call(name, args).then(finish, errnoOf);
    try {
      return finish(ctx.callSync(name, args));
    } catch (e) {
      return errnoOf(e);
    }
  };
  /** A plain import, or a suspending one where the realm may not block. */
  const blocking = (f: (...args: number[]) => number | Promise<number>): GuestImports[string] =>
    ctx.suspend ? ctx.suspending(async (...args) => f(...args)) : (f as (...args: number[]) => number);
  /** Like snprintf: copies what fits, returns the full length. */
  const text = (bufPtr: number, cap: number) => (answer: unknown): number => {
    const b = enc.encode(String(answer));
    const dst = bytes(bufPtr, Math.min(cap >>> 0, b.length));
    if (dst === null) return -Errno.INVAL;
    dst.set(b.subarray(0, dst.length));
    return b.length;
  };
  return {
    kernel_list: blocking((bufPtr = 0, cap = 0) => call('kernel.list', null, text(bufPtr, cap))),
    kernel_ps: blocking((bufPtr = 0, cap = 0) => call('kernel.ps', null, text(bufPtr, cap))),
    kernel_spawn: blocking((namePtr = 0, nameLen = 0, argsPtr = 0, argsLen = 0) => {
      const n = bytes(namePtr, nameLen);
      const a = bytes(argsPtr, argsLen);
      if (n === null || a === null) return -Errno.INVAL;
      let name: string;
      let args: string[];
      try {
        name = dec.decode(n);
        args = a.length === 0 ? [] : dec.decode(a).replace(/\0$/, '').split('\0');
      } catch {
        return -Errno.INVAL;
      }
      return call('kernel.spawn', { name, args }, Number);
    }),
    // Any host call tells the watchdog the module is alive; this one does nothing else.
    heartbeat: () => 0,
    kernel_kill: blocking((pid = 0) => call('kernel.kill', { pid }, () => 0)),
  };
}
