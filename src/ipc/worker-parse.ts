/** Parsers for the worker protocol: `unknown` in, a typed message or a KernelError out. */
import { KernelError, type ExitReason } from '../common';
import { isMigrateStart } from './migrate-protocol';
import { isInt, isStrings, malformed, versioned } from './parse-util';
import { isFileChannel } from './file-channel';
import { FromWorker, ReplyBy, ToWorker, WORKER_LOCK_PREFIX, WORKER_PROTOCOL, type FromWorkerMessage, type ReplyMode, type ToWorkerMessage } from './worker-protocol';

const REASONS: readonly ExitReason[] = ['exited', 'crashed', 'memory-exceeded', 'killed', 'failed'];

const fail = (why: string, data: unknown): never => malformed('worker', why, data);
const record = (data: unknown): Record<string, unknown> => versioned('worker', WORKER_PROTOCOL, data);
const REPLY_MODES: readonly string[] = Object.values(ReplyBy);

function isGrants(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const g = x as Record<string, unknown>;
  return isStrings(g.publish) && isStrings(g.subscribe) && isStrings(g.kernel);
}

/** An Extism start's limits and linked modules. */
function isExtismStart(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  return (
    (e.maxBytes === undefined || isInt(e.maxBytes)) &&
    (e.maxVarBytes === undefined || isInt(e.maxVarBytes)) &&
    (e.linked === undefined ||
      (Array.isArray(e.linked) &&
        e.linked.every((l: unknown) => typeof l === 'object' && l !== null && typeof (l as { name?: unknown }).name === 'string' && (l as { module?: unknown }).module instanceof WebAssembly.Module)))
  );
}

/** An instance group's members (ADR 0033). */
function isGroup(x: unknown): boolean {
  if (!Array.isArray(x)) return false;
  return x.every((g: unknown) => {
    if (typeof g !== 'object' || g === null) return false;
    const m = g as Record<string, unknown>;
    return (
      typeof m.name === 'string' &&
      m.module instanceof WebAssembly.Module &&
      typeof m.config === 'object' &&
      m.config !== null &&
      Object.values(m.config).every((v) => typeof v === 'string') &&
      (m.extism === undefined || isExtismStart(m.extism))
    );
  });
}

/** Page to worker. */
export function parseToWorker(data: unknown): ToWorkerMessage {
  const r = record(data);
  if (r.type === ToWorker.reply) {
    if (!isInt(r.pid) || !isInt(r.id) || typeof r.ok !== 'boolean') fail('bad reply fields', data);
    return {
      v: WORKER_PROTOCOL,
      type: ToWorker.reply,
      pid: r.pid as number,
      id: r.id as number,
      ok: r.ok as boolean,
      value: r.value,
      ...(r.ok ? {} : { error: KernelError.from(r.error).toJSON() }),
    };
  }
  if (r.type === ToWorker.serve) {
    if (!isInt(r.pid) || !isInt(r.id) || typeof r.fn !== 'string' || !(r.input instanceof Uint8Array) || (r.until !== undefined && typeof r.until !== 'number')) {
      fail('bad serve fields', data);
    }
    const until = r.until as number | undefined;
    return { v: WORKER_PROTOCOL, type: ToWorker.serve, pid: r.pid as number, id: r.id as number, fn: r.fn as string, input: r.input as Uint8Array, ...(until !== undefined ? { until } : {}) };
  }
  if (r.type !== ToWorker.start) fail(`unknown type ${String(r.type)}`, data);
  const ok =
    isInt(r.pid) &&
    (r.module instanceof WebAssembly.Module) !== (typeof r.scriptUrl === 'string' && r.scriptUrl.startsWith('blob:')) &&
    (r.module === undefined || r.module instanceof WebAssembly.Module) &&
    isStrings(r.args) &&
    isStrings(r.env) &&
    isStrings(r.preopens) &&
    (r.homes === undefined || isStrings(r.homes)) &&
    (r.opfsHome === undefined || isOpfsHome(r.opfsHome)) &&
    (r.fileChannel === undefined || isFileChannel(r.fileChannel)) &&
    Array.isArray(r.files) &&
    r.files.every((f) => Array.isArray(f) && typeof f[0] === 'string' && f[1] instanceof Uint8Array) &&
    r.stdin instanceof SharedArrayBuffer &&
    r.stdout instanceof SharedArrayBuffer &&
    r.stderr instanceof SharedArrayBuffer &&
    typeof r.tty === 'boolean' &&
    typeof r.stdoutIsPipe === 'boolean' &&
    typeof r.keepStdio === 'boolean' &&
    (r.watch === undefined || r.watch instanceof SharedArrayBuffer) &&
    (r.migrate === undefined || isMigrateStart(r.migrate)) &&
    (r.relayed === undefined || typeof r.relayed === 'boolean') &&
    (r.suspend === undefined || typeof r.suspend === 'boolean') &&
    (r.refuseAfterMs === undefined || typeof r.refuseAfterMs === 'number') &&
    (r.serve === undefined || typeof r.serve === 'boolean') &&
    (r.serviceConfig === undefined ||
      (typeof r.serviceConfig === 'object' && r.serviceConfig !== null && Object.values(r.serviceConfig).every((x) => typeof x === 'string'))) &&
    (r.extism === undefined || isExtismStart(r.extism)) &&
    (r.group === undefined || isGroup(r.group)) &&
    (r.callSlot === undefined || (typeof r.callSlot === 'object' && r.callSlot !== null && isInt((r.callSlot as Record<string, unknown>).slot) && isInt((r.callSlot as Record<string, unknown>).serial))) &&
    isInt(r.maxPages) &&
    isGrants(r.grants) &&
    r.syscall instanceof SharedArrayBuffer &&
    typeof r.shared === 'object' &&
    r.shared !== null &&
    Object.values(r.shared).every((x) => x instanceof SharedArrayBuffer);
  if (!ok) fail('bad start fields', data);
  return r as unknown as ToWorkerMessage;
}

/** Worker to page. */
export function parseFromWorker(data: unknown): FromWorkerMessage {
  const r = record(data);
  switch (r.type) {
    case FromWorker.ready:
      if (r.lock !== undefined && (typeof r.lock !== 'string' || !r.lock.startsWith(WORKER_LOCK_PREFIX) || r.lock.length > 100)) fail('bad ready fields', data);
      return { v: WORKER_PROTOCOL, type: FromWorker.ready, ...(r.lock !== undefined ? { lock: r.lock as string } : {}) };
    case FromWorker.running:
      if (!isInt(r.pid)) fail('bad running fields', data);
      return { v: WORKER_PROTOCOL, type: FromWorker.running, pid: r.pid as number };
    case FromWorker.exited:
      if (!isInt(r.pid) || !isInt(r.code) || !REASONS.includes(r.reason as ExitReason)) fail('bad exited fields', data);
      return {
        v: WORKER_PROTOCOL,
        type: FromWorker.exited,
        pid: r.pid as number,
        code: r.code as number,
        reason: r.reason as ExitReason,
        ...(typeof r.message === 'string' ? { message: r.message } : {}),
      };
    case FromWorker.call:
      if (!isInt(r.pid) || !isInt(r.id) || typeof r.call !== 'string' || !REPLY_MODES.includes(r.reply as string)) {
        fail('bad call fields', data);
      }
      return {
        v: WORKER_PROTOCOL,
        type: FromWorker.call,
        pid: r.pid as number,
        id: r.id as number,
        call: r.call as string,
        args: r.args,
        reply: r.reply as ReplyMode,
      };
    case FromWorker.served:
      if (!isInt(r.pid) || !isInt(r.id) || typeof r.ok !== 'boolean' || (r.ok && !(r.output instanceof Uint8Array))) fail('bad served fields', data);
      return {
        v: WORKER_PROTOCOL,
        type: FromWorker.served,
        pid: r.pid as number,
        id: r.id as number,
        ok: r.ok as boolean,
        ...(r.ok ? { output: r.output as Uint8Array } : { error: KernelError.from(r.error).toJSON() }),
      };
    case FromWorker.error: {
      const err = KernelError.from(r.error);
      return { v: WORKER_PROTOCOL, type: FromWorker.error, error: err.toJSON() };
    }
    default:
      return fail(`unknown type ${String(r.type)}`, data);
  }
}

/** An `opfsHome` field: the module and the preopens kept in its OPFS home. */
function isOpfsHome(x: unknown): boolean {
  const o = x as { module?: unknown; dirs?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.module === 'string' && isStrings(o.dirs);
}
