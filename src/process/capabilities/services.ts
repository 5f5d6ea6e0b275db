/**
 * `webmk_call`: a module calls a function of a service module (see modules/include/webmk.h). It
 * blocks the module until the call is answered: with `Atomics.wait` in a worker, suspended (JSPI)
 * where the realm may not block. The caller needs the grant `call:<module>`. In a worker, calls after
 * the first may go straight to the service's worker (direct.ts, ADR 0027).
 */
import { Errno, KernelError, isKernelError } from '../../common';
import { fromBase64 } from '../../ipc';
import { ProcessKilled, type GuestContext, type GuestImports } from '../guest';
import { callService } from './direct';

const dec = new TextDecoder('utf-8', { fatal: true });

/** A refused call as -errno; a killed process unwinds instead. */
export function serviceErrno(e: unknown): number {
  if (e instanceof ProcessKilled) throw e;
  if (!isKernelError(e)) return -Errno.INVAL;
  const map: Partial<Record<KernelError['code'], number>> = {
    'kernel/denied': -Errno.ACCES,
    'kernel/unknown-module': -Errno.NOENT,
    'service/not-a-service': -Errno.NOENT,
    'service/no-such-function': -Errno.NOSYS,
    'service/error': -Errno.IO,
    'service/call-loop': -Errno.DEADLK,
    'kernel/timeout': -Errno.TIMEDOUT,
    'kernel/unsupported': -Errno.NOSYS,
    'ipc/too-large': -Errno.MSGSIZE,
  };
  return map[e.code] ?? -Errno.INVAL;
}

/**
 * Decodes UTF-8 names, remembering the last one: a module calls the same function over and over,
 * and a decode costs more than comparing a few bytes (it is on the path a direct call is timed by).
 */
function nameDecoder(): (b: Uint8Array) => string {
  let last = new Uint8Array(0);
  let text = '';
  return (b) => {
    if (b.length === last.length && b.every((x, i) => x === last[i])) return text;
    text = dec.decode(b);
    last = b.slice();
    return text;
  };
}

/** Builds the service-call import of one process. */
export function serviceImports(ctx: GuestContext): GuestImports {
  const moduleName = nameDecoder();
  const fnName = nameDecoder();
  const bytes = (ptr: number, len: number): Uint8Array | null => {
    const mem = ctx.memory();
    const p = ptr >>> 0;
    const n = len >>> 0;
    return p + n <= mem.length ? mem.subarray(p, p + n) : null;
  };
  /** Copies what fits of the output, returns its full length (like snprintf). */
  const copyOut = (outPtr: number, outCap: number, out: Uint8Array): number => {
    const dst = bytes(outPtr, Math.min(outCap >>> 0, out.length));
    if (dst === null) return -Errno.FAULT;
    dst.set(out.subarray(0, dst.length));
    return out.length;
  };
  // A migratable process asked to park while it waits for an answer parks once it has it (ADR
  // 0036): the output is in its memory already, and the call's result is kept for the rewind.
  let parkedResult: number | undefined;
  const resumedWith = ctx.parking?.kept('call') as { result?: unknown } | undefined;
  let rewindResult = typeof resumedWith?.result === 'number' ? resumedWith.result : undefined;
  ctx.parking?.keep('call', () => (parkedResult === undefined ? undefined : { result: parkedResult }));
  const parkAfter = (result: number): number => {
    if (ctx.parking?.shouldPark() !== true) return result;
    parkedResult = result;
    return ctx.parking.park('call');
  };
  const finish = (outPtr: number, outCap: number) => (answer: unknown): number =>
    typeof answer === 'string' ? copyOut(outPtr, outCap, fromBase64(answer)) : -Errno.INVAL;
  const call = (modPtr = 0, modLen = 0, fnPtr = 0, fnLen = 0, inPtr = 0, inLen = 0, outPtr = 0, outCap = 0): number | Promise<number> => {
    // Resumed in this call, answered before it was parked: the same result, not a second call.
    if (rewindResult !== undefined) {
      const r = rewindResult;
      rewindResult = undefined;
      return r;
    }
    // Asked to park before it calls: parked here, it makes the call when resumed.
    if (ctx.parking?.shouldPark() === true) return ctx.parking.park('call');
    const m = bytes(modPtr, modLen);
    const f = bytes(fnPtr, fnLen);
    const input = bytes(inPtr, inLen);
    if (m === null || f === null || input === null || bytes(outPtr, 0) === null) return -Errno.FAULT;
    let module: string;
    let fn: string;
    try {
      module = moduleName(m);
      fn = fnName(f);
    } catch {
      return -Errno.INVAL;
    }
    if (ctx.suspend) return ctx.call('service.call', { module, fn, input: input.slice() }).then(finish(outPtr, outCap), serviceErrno);
    try {
      // A direct call copies the input into its slot; only the kernel's path needs a copy of its own.
      const answer = callService(ctx, module, fn, input, (extra) => ctx.callSync('service.call', { module, fn, input: input.slice(), ...extra }));
      return parkAfter('bytes' in answer ? copyOut(outPtr, outCap, answer.bytes) : -Errno.INVAL);
    } catch (e) {
      return parkAfter(serviceErrno(e));
    }
  };
  return { call: ctx.suspend ? ctx.suspending(async (...a) => call(...a)) : (call as (...args: number[]) => number) };
}
