/**
 * A module's calls into service modules, direct where the kernel granted it (ADR 0027): the
 * first call to a service goes through the kernel, which decides (grant, loop, deadline) and may
 * answer with a direct path to the service's worker; later calls use it, worker to worker,
 * until it no longer holds (the service restarted, was updated, or anything granted changed),
 * and then go through the kernel again. Where the kernel is left out, this keeps its rules: the
 * caller's own deadline bounds the callee's, and a call that would wait on itself is refused.
 */
import { KernelError } from '../../common';
import { callDirect, fromBase64, type DirectGrant } from '../../ipc';
import { ProcessKilled, type GuestContext } from '../guest';

/** What a linked call answered: output bytes, or a number a page function returned. */
export type CallAnswer = { bytes: Uint8Array } | { number: number };

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function parseGrant(x: unknown): DirectGrant | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const g = x as Record<string, unknown>;
  if (!isInt(g.slot) || !isInt(g.serial) || !isInt(g.epoch) || typeof g.timeoutMs !== 'number' || !isInt(g.counter)) return undefined;
  return { slot: g.slot, serial: g.serial, epoch: g.epoch, timeoutMs: g.timeoutMs, counter: g.counter };
}

/**
 * Calls `fn` of service `module` with `input`; blocks this worker. `viaKernel` makes the call
 * through the kernel with the extra arguments given, and returns its answer. Throws a
 * KernelError (`service/call-loop`, `kernel/timeout`, `service/error`, ...) as the kernel would.
 */
export function callService(ctx: GuestContext, module: string, fn: string, input: Uint8Array, viaKernel: (extra: Record<string, unknown>) => unknown): CallAnswer {
  const d = ctx.direct;
  const g = d?.grants.get(module);
  if (d !== undefined && g !== undefined) {
    ctx.checkAlive();
    const r = callDirect(d.space, g, fn, input, { pid: ctx.pid, me: d.me, until: d.until });
    switch (r.kind) {
      case 'ok':
        return { bytes: r.output };
      case 'error':
        throw KernelError.from(r.error);
      case 'loop':
        throw new KernelError('service/call-loop', `calling "${module}" would wait on itself`, { target: module });
      case 'ended':
        throw new KernelError('service/error', `"${module}" ended during the call`, { name: module });
      case 'timeout':
        // A call begun is never left half-way: the kernel ends the instance and starts it fresh.
        if (r.ran) {
          try {
            ctx.callSync('service.expired', { module, slot: g.slot, serial: g.serial });
          } catch (e) {
            if (e instanceof ProcessKilled) throw e;
          }
        }
        throw new KernelError('kernel/timeout', `${module}.${fn} did not answer within its deadline`, { name: module, fn });
      case 'fallback':
        d.grants.delete(module);
    }
  }
  const extra = d === undefined ? {} : { direct: true, ...(Number.isFinite(d.until) ? { until: d.until } : {}) };
  const value = viaKernel(extra);
  if (typeof value === 'string') return { bytes: fromBase64(value) };
  const a = (typeof value === 'object' && value !== null ? value : {}) as { base64?: unknown; number?: unknown; direct?: unknown };
  const grant = parseGrant(a.direct);
  if (d !== undefined && grant !== undefined) d.grants.set(module, grant);
  if (typeof a.number === 'number') return { number: a.number | 0 };
  if (typeof a.base64 !== 'string') throw new KernelError('ipc/malformed', 'a service call answered in an unknown shape');
  return { bytes: fromBase64(a.base64) };
}
