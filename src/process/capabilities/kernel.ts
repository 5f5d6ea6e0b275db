/**
 * Kernel calls a module may be granted (Orbital's few verbs): `webmk_kernel_list`,
 * `webmk_kernel_ps`, `webmk_kernel_spawn`, `webmk_kernel_kill`. Text answers are lines the
 * module can print or parse; see modules/include/webmk.h.
 */
import { Errno, isKernelError } from '../../common';
import { ProcessKilled, type GuestContext, type GuestImports } from '../guest';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** Builds the kernel-call imports of one process. */
export function kernelImports(ctx: GuestContext): GuestImports {
  const bytes = (ptr: number, len: number): Uint8Array | null => {
    const mem = ctx.memory();
    const p = ptr >>> 0;
    const n = len >>> 0;
    return p + n <= mem.length ? mem.subarray(p, p + n) : null;
  };
  /** Runs a call; maps a refusal to -errno. */
  const call = (name: string, args: unknown): unknown | number => {
    try {
      return ctx.callSync(name, args);
    } catch (e) {
      if (e instanceof ProcessKilled) throw e;
      if (isKernelError(e, 'kernel/denied')) return -Errno.ACCES;
      if (isKernelError(e, 'kernel/unknown-module')) return -Errno.NOENT;
      if (isKernelError(e, 'kernel/unknown-process')) return -Errno.SRCH;
      return -Errno.INVAL;
    }
  };
  /** Like snprintf: copies what fits, returns the full length. */
  const text = (name: string, bufPtr: number, cap: number): number => {
    const r = call(name, null);
    if (typeof r === 'number') return r;
    const b = enc.encode(String(r));
    const dst = bytes(bufPtr, Math.min(cap >>> 0, b.length));
    if (dst === null) return -Errno.INVAL;
    dst.set(b.subarray(0, dst.length));
    return b.length;
  };
  return {
    kernel_list: (bufPtr, cap) => text('kernel.list', bufPtr, cap),
    kernel_ps: (bufPtr, cap) => text('kernel.ps', bufPtr, cap),
    kernel_spawn: (namePtr, nameLen, argsPtr, argsLen) => {
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
      const r = call('kernel.spawn', { name, args });
      return typeof r === 'number' && r < 0 ? r : Number(r);
    },
    // Any host call tells the watchdog the module is alive; this one does nothing else.
    heartbeat: () => 0,
    kernel_kill: (pid) => {
      const r = call('kernel.kill', { pid });
      return typeof r === 'number' && r < 0 ? r : 0;
    },
  };
}
