/** Parses what arrives on a link about processes: `unknown` until it is a well-formed RemoteMessage. */
import { KernelError, MAX_CALL_TIMEOUT_MS, type ExitReason, type KernelErrorData } from '../common';
import { REMOTE_WIRE_VERSION, RemoteTag, type RemoteMessage, type RemoteModule, type SpawnRequest } from './protocol';
import { fromWire, type WireSnapshot } from './snapshot-wire';

const TAGS: ReadonlySet<string> = new Set(Object.values(RemoteTag));
const REASONS: ReadonlySet<string> = new Set<ExitReason>(['exited', 'crashed', 'memory-exceeded', 'killed', 'failed', 'no-memory-slot', 'watchdog-expired', 'restart-limit', 'shutdown', 'link-lost']);

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
/** A window side in pixels (gfx checks the area). */
const isSize = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= 16384;
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

function fail(why: string): never {
  throw new KernelError('remote/malformed', `a remote message was malformed: ${why}`);
}

/** The message; throws `remote/malformed` for anything else. */
export function parseRemote(data: unknown): RemoteMessage {
  if (!isRecord(data)) fail('not an object');
  if (data.v !== REMOTE_WIRE_VERSION) fail(`version ${String(data.v)}`);
  const { type } = data;
  if (typeof type !== 'string' || !TAGS.has(type)) fail(`unknown type ${String(type)}`);
  const v = REMOTE_WIRE_VERSION;
  if (type === RemoteTag.error) return { v, type, message: typeof data.message === 'string' ? data.message.slice(0, 500) : '' };
  const id = data.id;
  if (!isId(id)) fail('bad id');
  switch (type) {
    case RemoteTag.lookup:
      if (typeof data.name !== 'string') fail('bad name');
      return { v, type, id, name: data.name };
    case RemoteTag.found:
      return { v, type, id, module: parseModule(data.module) };
    case RemoteTag.spawn:
      return { v, type, id, spawn: parseSpawn(data.spawn) };
    case RemoteTag.spawned:
      if (!isId(data.pid) || !isStrings(data.subscribe)) fail('bad spawned');
      return { v, type, id, pid: data.pid, subscribe: data.subscribe };
    case RemoteTag.busOut:
    case RemoteTag.busIn:
      if (typeof data.topic !== 'string' || !(data.data instanceof Uint8Array)) fail('bad bus message');
      return { v, type, id, topic: data.topic, data: data.data };
    case RemoteTag.fail:
      return { v, type, id, error: parseError(data.error) };
    case RemoteTag.in:
      if (!(data.data instanceof Uint8Array)) fail('bad data');
      return { v, type, id, data: data.data };
    case RemoteTag.inEnd:
    case RemoteTag.kill:
      return { v, type, id };
    case RemoteTag.out:
      if (!(data.data instanceof Uint8Array) || (data.fd !== 1 && data.fd !== 2)) fail('bad output');
      return { v, type, id, fd: data.fd, data: data.data };
    case RemoteTag.credit:
      if ((data.fd !== 0 && data.fd !== 1 && data.fd !== 2) || !isId(data.bytes)) fail('bad credit');
      return { v, type, id, fd: data.fd, bytes: data.bytes };
    case RemoteTag.exit: {
      const { code, reason, message } = data;
      if (typeof code !== 'number' || !Number.isInteger(code) || typeof reason !== 'string' || !REASONS.has(reason)) fail('bad exit');
      return { v, type, id, code, reason: reason as ExitReason, ...(typeof message === 'string' ? { message: message.slice(0, 2000) } : {}) };
    }
    case RemoteTag.carry:
      if (typeof data.name !== 'string' || !(data.package instanceof Uint8Array)) fail('bad carry');
      return { v, type, id, name: data.name, package: data.package };
    case RemoteTag.winOpen:
      if (!isSize(data.width) || !isSize(data.height)) fail('bad window');
      return { v, type, id, width: data.width, height: data.height };
    case RemoteTag.winFrame:
      if (!isSize(data.width) || !isSize(data.height) || !(data.data instanceof Uint8Array)) fail('bad frame');
      return { v, type, id, width: data.width, height: data.height, data: data.data };
    case RemoteTag.winAck:
    case RemoteTag.winClose:
      return { v, type, id };
    case RemoteTag.call: {
      const { module, fn, input, timeoutMs } = data;
      if (typeof module !== 'string' || typeof fn !== 'string' || !(input instanceof Uint8Array)) fail('bad call');
      if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_CALL_TIMEOUT_MS) fail('bad call timeout');
      return { v, type, id, module, fn, input, timeoutMs };
    }
    case RemoteTag.called:
      if (!(data.output instanceof Uint8Array)) fail('bad call output');
      return { v, type, id, output: data.output };
    case RemoteTag.winInput: {
      const ev = data.event;
      if (!Array.isArray(ev) || ev.length !== 6 || !ev.every((x) => typeof x === 'number' && Number.isInteger(x) && Math.abs(x) <= 0x7fffffff)) fail('bad input');
      return { v, type, id, event: ev as number[] };
    }
    default:
      return fail(`unknown type ${type}`);
  }
}

function parseModule(x: unknown): RemoteModule {
  if (!isRecord(x)) fail('bad module');
  const { name, version, description, kind, command, sha256, size, migratable } = x;
  if (typeof name !== 'string' || typeof version !== 'string' || typeof description !== 'string' || (kind !== 'wasm' && kind !== 'js')) fail('bad module');
  if (typeof command !== 'boolean' || typeof sha256 !== 'string' || !isId(size)) fail('bad module');
  if (migratable !== undefined && typeof migratable !== 'string') fail('bad module');
  return { name, version, description, kind, command, sha256, size, ...(migratable !== undefined ? { migratable } : {}) };
}

function parseSpawn(x: unknown): SpawnRequest {
  if (!isRecord(x)) fail('bad spawn');
  const { name, pid, args, env, tty, preopens, files } = x;
  if (typeof name !== 'string' || !isId(pid) || !isStrings(args) || !isStrings(env) || typeof tty !== 'boolean' || !isStrings(preopens)) fail('bad spawn');
  if (!Array.isArray(files)) fail('bad files');
  const checked = files.map((f): [string, Uint8Array] => {
    if (!Array.isArray(f) || typeof f[0] !== 'string' || !(f[1] instanceof Uint8Array)) fail('bad file');
    return [f[0], f[1]];
  });
  const resume = x.resume;
  if (resume === undefined) return { name, pid, args, env, tty, preopens, files: checked };
  if (!isRecord(resume) || typeof resume.sha256 !== 'string') fail('bad resume');
  fromWire(resume.snapshot); // throws remote/malformed
  return { name, pid, args, env, tty, preopens, files: checked, resume: { sha256: resume.sha256, snapshot: resume.snapshot as WireSnapshot } };
}

function parseError(x: unknown): KernelErrorData {
  const e = KernelError.from(x);
  // Only the other node's own codes cross: anything else is reported as a refusal.
  const code = /^[a-z]+\/[a-z-]+$/.test(e.code) ? e.code : 'remote/refused';
  return { code, message: e.message.slice(0, 2000), details: e.details };
}
