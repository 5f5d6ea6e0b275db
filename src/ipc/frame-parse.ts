/**
 * Parsers for the frame protocol: `unknown` in, a typed message or a KernelError
 * (`ipc/malformed`) out. The page runs `parseFromFrame` on everything the container sends; the
 * frame runs `parseToFrame` on what the page sends.
 */
import { KernelError, type ExitReason } from '../common';
import { parseSnapshot } from './migrate-protocol';
import { isInt, isStrings, malformed, versioned } from './parse-util';
import { FRAME_PROTOCOL, FromFrame, ToFrame, type BusDelivery, type FromFrameMessage, type ToFrameMessage } from './frame-protocol';
import { ReplyBy, type ReplyMode } from './worker-protocol';

const REASONS: readonly ExitReason[] = ['exited', 'crashed', 'memory-exceeded', 'killed', 'failed', 'watchdog-expired'];
const REPLY_MODES: readonly string[] = Object.values(ReplyBy);
/** The largest chunk of output or input one message may carry. */
const MAX_CHUNK = 4 * 1024 * 1024;

const fail = (why: string, data: unknown): never => malformed('frame', why, data);
const record = (data: unknown): Record<string, unknown> => versioned('frame', FRAME_PROTOCOL, data);

const isSid = (x: unknown): x is number => isInt(x) && x > 0;
const isDelivery = (x: unknown): x is BusDelivery => {
  const d = x as Record<string, unknown> | null;
  return typeof d === 'object' && d !== null && typeof d.topic === 'string' && d.data instanceof Uint8Array && isInt(d.from);
};
const isFd = (x: unknown): x is 1 | 2 => x === 1 || x === 2;
const isChunk = (x: unknown): x is Uint8Array => x instanceof Uint8Array && x.length <= MAX_CHUNK;
const isSize = (x: unknown): boolean => isInt(x) && x >= 16 && x <= 2 ** 30 && (x & (x - 1)) === 0;
const isConfig = (x: unknown): boolean => typeof x === 'object' && x !== null && Object.values(x).every((v) => typeof v === 'string');
const isLimits = (x: unknown): boolean => {
  const l = x as Record<string, unknown> | null;
  const linked = l?.linked;
  const isLinked = (x: unknown): boolean => typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string' && (x as { bytes?: unknown }).bytes instanceof Uint8Array;
  return (
    typeof l === 'object' &&
    l !== null &&
    (l.maxBytes === undefined || isInt(l.maxBytes)) &&
    (l.maxVarBytes === undefined || isInt(l.maxVarBytes)) &&
    (linked === undefined || (Array.isArray(linked) && linked.every(isLinked)))
  );
};
/** The errors a service call may end with, from a frame: anything else it names becomes `service/error`. */
const SERVE_CODES: readonly string[] = ['service/error', 'service/no-such-function', 'service/host-not-allowed', 'service/memory-exceeded'];

/** Frame to page: untrusted. */
export function parseFromFrame(data: unknown): FromFrameMessage {
  const r = record(data);
  const v = FRAME_PROTOCOL;
  switch (r.type) {
    case FromFrame.ready:
      return { v, type: FromFrame.ready };
    case FromFrame.running:
      if (!isSid(r.sid)) fail('bad running fields', data);
      return { v, type: FromFrame.running, sid: r.sid as number };
    case FromFrame.out:
      if (!isSid(r.sid) || !isFd(r.fd) || !isChunk(r.data)) fail('bad out fields', data);
      return { v, type: FromFrame.out, sid: r.sid as number, fd: r.fd as 1 | 2, data: r.data as Uint8Array };
    case FromFrame.stdinAck:
      if (!isSid(r.sid) || !isInt(r.bytes) || (r.bytes as number) < 0) fail('bad stdin-ack fields', data);
      return { v, type: FromFrame.stdinAck, sid: r.sid as number, bytes: r.bytes as number };
    case FromFrame.call:
      if (!isSid(r.sid) || !isInt(r.id) || typeof r.call !== 'string' || !REPLY_MODES.includes(r.reply as string)) fail('bad call fields', data);
      return { v, type: FromFrame.call, sid: r.sid as number, id: r.id as number, call: r.call as string, args: r.args, reply: r.reply as ReplyMode };
    case FromFrame.served: {
      if (!isSid(r.sid) || !isInt(r.id) || typeof r.ok !== 'boolean' || (r.ok && !(r.output instanceof Uint8Array))) fail('bad served fields', data);
      if (r.ok) return { v, type: FromFrame.served, sid: r.sid as number, id: r.id as number, ok: true, output: r.output as Uint8Array };
      // Untrusted: it may not answer for the kernel (a denial, a timeout it did not see).
      const e = KernelError.from(r.error).toJSON();
      const error = SERVE_CODES.includes(e.code) ? e : { ...e, code: 'service/error' as const };
      return { v, type: FromFrame.served, sid: r.sid as number, id: r.id as number, ok: false, error };
    }
    case FromFrame.exited:
      if (!isSid(r.sid) || !isInt(r.code) || !REASONS.includes(r.reason as ExitReason)) fail('bad exited fields', data);
      return {
        v,
        type: FromFrame.exited,
        sid: r.sid as number,
        code: r.code as number,
        reason: r.reason as ExitReason,
        ...(typeof r.message === 'string' ? { message: r.message.slice(0, 4096) } : {}),
      };
    case FromFrame.error:
      return { v, type: FromFrame.error, error: KernelError.from(r.error).toJSON() };
    default:
      return fail(`unknown type ${String(r.type)}`, data);
  }
}

/** The `migrate` field of a frame start: an object, whose snapshot (if any) parses. */
function isFrameMigrate(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const resume = (x as { resume?: unknown }).resume;
  if (resume === undefined) return true;
  try {
    parseSnapshot(resume);
    return true;
  } catch {
    return false;
  }
}

/** Page to frame. */
export function parseToFrame(data: unknown): ToFrameMessage {
  const r = record(data);
  const v = FRAME_PROTOCOL;
  switch (r.type) {
    case ToFrame.start: {
      const rings = r.rings as Record<string, unknown> | null;
      const ok =
        isSid(r.sid) &&
        isInt(r.pid) &&
        typeof r.name === 'string' &&
        typeof r.sha256 === 'string' &&
        (r.bytes === undefined || r.bytes instanceof Uint8Array) &&
        (r.script === undefined || (typeof r.script === 'string' && r.script.length <= 8 * 1024 * 1024)) &&
        isInt(r.maxPages) &&
        isStrings(r.args) &&
        isStrings(r.env) &&
        isStrings(r.preopens) &&
        Array.isArray(r.files) &&
        r.files.every((f) => Array.isArray(f) && typeof f[0] === 'string' && f[1] instanceof Uint8Array) &&
        typeof r.tty === 'boolean' &&
        typeof r.stdoutIsPipe === 'boolean' &&
        typeof r.grants === 'object' &&
        r.grants !== null &&
        (r.watchdogMs === undefined || typeof r.watchdogMs === 'number') &&
        (r.migrate === undefined || isFrameMigrate(r.migrate)) &&
        (r.serve === undefined || typeof r.serve === 'boolean') &&
        (r.serviceConfig === undefined || isConfig(r.serviceConfig)) &&
        (r.extism === undefined || isLimits(r.extism)) &&
        typeof rings === 'object' &&
        rings !== null &&
        isSize(rings.stdin) &&
        isSize(rings.stdout) &&
        isSize(rings.stderr);
      if (!ok) fail('bad start fields', data);
      return r as unknown as ToFrameMessage;
    }
    case ToFrame.stdin:
      if (!isSid(r.sid) || !isChunk(r.data)) fail('bad stdin fields', data);
      return { v, type: ToFrame.stdin, sid: r.sid as number, data: r.data as Uint8Array };
    case ToFrame.stdinEnd:
    case ToFrame.kill:
    case ToFrame.park:
    case ToFrame.unpark:
      if (!isSid(r.sid)) fail(`bad ${String(r.type)} fields`, data);
      return { v, type: r.type, sid: r.sid as number };
    case ToFrame.ack:
      if (!isSid(r.sid) || !isFd(r.fd) || !isInt(r.bytes)) fail('bad ack fields', data);
      return { v, type: ToFrame.ack, sid: r.sid as number, fd: r.fd as 1 | 2, bytes: r.bytes as number };
    case ToFrame.readerGone:
      if (!isSid(r.sid) || !isFd(r.fd)) fail('bad reader-gone fields', data);
      return { v, type: ToFrame.readerGone, sid: r.sid as number, fd: r.fd as 1 | 2 };
    case ToFrame.reply:
      if (!isSid(r.sid) || !isInt(r.id) || typeof r.ok !== 'boolean') fail('bad reply fields', data);
      return {
        v,
        type: ToFrame.reply,
        sid: r.sid as number,
        id: r.id as number,
        ok: r.ok as boolean,
        value: r.value,
        ...(r.ok ? {} : { error: KernelError.from(r.error).toJSON() }),
      };
    case ToFrame.input:
      if (!isSid(r.sid) || !isInt(r.window) || !(r.events instanceof Int32Array) || r.events.length > 65536 || typeof r.closed !== 'boolean') {
        fail('bad input fields', data);
      }
      return { v, type: ToFrame.input, sid: r.sid as number, window: r.window as number, events: r.events as Int32Array, closed: r.closed as boolean };
    case ToFrame.serve:
      if (!isSid(r.sid) || !isInt(r.id) || typeof r.fn !== 'string' || !(r.input instanceof Uint8Array) || (r.until !== undefined && typeof r.until !== 'number')) fail('bad serve fields', data);
      return { v, type: ToFrame.serve, sid: r.sid as number, id: r.id as number, fn: r.fn as string, input: r.input as Uint8Array, ...(typeof r.until === 'number' ? { until: r.until } : {}) };
    case ToFrame.bus:
      if (!isSid(r.sid) || !isInt(r.slot) || !Array.isArray(r.messages) || !r.messages.every(isDelivery)) fail('bad bus fields', data);
      return { v, type: ToFrame.bus, sid: r.sid as number, slot: r.slot as number, messages: r.messages as BusDelivery[] };
    default:
      return fail(`unknown type ${String(r.type)}`, data);
  }
}
