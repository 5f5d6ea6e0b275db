/**
 * A service process: instantiated once (its `_initialize` run, if it exports one), then it runs
 * one exported function per call, to its end, with the Extism ABI: the function takes no
 * arguments and returns an i32, 0 for success; its input and output go through
 * `extism:host/env` (extism.ts). A trap, an exit, or a fault in the ABI ends the instance: the
 * call fails `service/error` (`service/memory-exceeded` past the plugin's memory limit,
 * `service/host-not-allowed` for a refused `http_request`) and the process ends, so the kernel
 * starts it fresh. On the page (`promising`, ADR 0032) the functions run as promises (JSPI), so
 * a blocking import suspends the call instead of the page, and a call past its deadline is refused
 * `kernel/timeout` at its next host call or its return: the instance is spent, and the kernel
 * starts it again fresh.
 */
import { EXIT_CODES, KernelError, type ProcessExit } from '../common';
import type { MigrateStart, Snapshot } from '../ipc';
import { ExtismMemoryFault, type ExtismHost } from './extism';
import { restoreService, watchPark } from './serve-park';
import type { RunningProcess, ServeOutcome, Watch } from './guest';
import { WASIProcExit, type WasiProcess } from './wasi';

/** The import module of Extism's host ABI. */
export const EXTISM_ENV = 'extism:host/env';

/** What a service process needs of run.ts. */
export interface ServeSetup {
  proc: WasiProcess;
  extism: ExtismHost;
  keepStdio: boolean;
  instantiate(): WebAssembly.Instance;
  bindMemory(memory: WebAssembly.Memory): void;
  onRunning(): void;
  startFailure(e: unknown): ProcessExit;
  trapped(e: unknown, memory: WebAssembly.Memory): ProcessExit;
  /** The watchdog's brackets, if it has one: waiting for a call counts as being parked, not computing. */
  watch?: Watch;
  /** Where the deadline of the call being served is kept, for the direct calls it makes (ADR 0027). */
  deadline?: { until: number };
  /** A migratable service: it may be parked between two calls, and resumed from a snapshot (serve-park.ts). */
  migrate?: MigrateStart;
  /** Sends the snapshot of the service parked (before its exit). */
  parked?(snapshot: Snapshot): void;
  /** On the page: `_initialize` and every call run through `WebAssembly.promising` (`serveAsync`). */
  promising?: boolean;
}

/** Thrown at a host call (the watch's `enter`) of a call on the page whose deadline has passed. */
export class CallExpired extends Error {}

/** Instantiates the service and returns how it ends and how it serves a call. */
export function serveLoop(s: ServeSetup): Omit<RunningProcess, 'settle'> & { ended?: () => boolean } {
  /** A call on the page unwound at its deadline: the instance serves nothing more, and the kernel ends it. */
  let spent = false;
  let end!: (e: ProcessExit) => void;
  const exit = new Promise<ProcessExit>((ok) => (end = ok));
  let ended = false;
  let stopWatch = (): void => {};
  const finish = (e: ProcessExit, parked = false): void => {
    if (ended) return;
    ended = true;
    stopWatch();
    // Parked, its streams stay open for the instance that resumes it.
    if (!s.keepStdio && !parked) s.proc.closeStdio();
    end(e);
  };
  let instance: WebAssembly.Instance;
  try {
    instance = s.instantiate();
  } catch (e) {
    finish(s.startFailure(e));
    return { exit };
  }
  const memory = instance.exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    finish({ code: EXIT_CODES.failed, reason: 'failed', message: 'the module exports no memory' });
    return { exit };
  }
  s.bindMemory(memory);
  s.proc.bind(instance);
  const init = instance.exports._initialize;
  const resume = s.migrate?.resume;
  const initFailed = (e: unknown): void => finish(e instanceof WASIProcExit ? { code: e.code, reason: 'exited' } : s.trapped(e, memory));
  const begin = (): void => {
    s.onRunning();
    const migrate = s.migrate;
    if (migrate !== undefined) {
      stopWatch = watchPark(migrate, instance, memory, (snapshot) => {
        s.parked?.(snapshot);
        finish({ code: 0, reason: 'exited', message: 'parked' }, true);
      });
    }
    s.watch?.enter();
  };
  if (s.promising === true && resume === undefined && typeof init === 'function') {
    // On the page its initializer may reach a blocking import too: it runs as a promise.
    WebAssembly.promising(init as () => unknown)().then(() => !ended && begin(), initFailed);
  } else {
    try {
      // Resumed, it was initialized already: its memory and globals say so.
      if (resume !== undefined) restoreService(instance, memory, resume);
      else if (typeof init === 'function') (init as () => unknown)();
    } catch (e) {
      initFailed(e);
      return { exit };
    }
    begin();
  }
  /** The export to call, or the refusal. */
  const target = (fn: string): (() => unknown) | ServeOutcome => {
    const f = instance.exports[fn];
    if (ended || spent) return refuse('service/error', 'the service has ended', fn);
    if (typeof f !== 'function' || fn.startsWith('_')) return refuse('service/no-such-function', `the service exports no function "${fn}"`, fn);
    return f as () => unknown;
  };
  const serve = (fn: string, input: Uint8Array, until = Infinity): ServeOutcome => {
    const f = target(fn);
    if (typeof f !== 'function') return f;
    if (s.deadline === undefined) return run(f, fn, input);
    const was = s.deadline.until;
    s.deadline.until = until;
    try {
      return run(f, fn, input);
    } finally {
      s.deadline.until = was;
    }
  };
  const serveAsync = async (fn: string, input: Uint8Array, until = Infinity): Promise<ServeOutcome> => {
    const f = target(fn);
    if (typeof f !== 'function') return f;
    const deadline = s.deadline;
    if (deadline !== undefined) deadline.until = until;
    s.extism.begin(input);
    s.watch?.leave();
    let rc: unknown;
    try {
      rc = await WebAssembly.promising(f)();
      s.watch?.enter();
    } catch (e) {
      return failed(e, fn);
    } finally {
      if (deadline !== undefined) deadline.until = Infinity;
    }
    return answered(rc, fn);
  };
  const run = (f: () => unknown, fn: string, input: Uint8Array): ServeOutcome => {
    s.extism.begin(input);
    let rc: unknown;
    s.watch?.leave();
    try {
      rc = f();
      s.watch?.enter();
    } catch (e) {
      return failed(e, fn);
    }
    return answered(rc, fn);
  };
  /** How a call that threw ends: the instance with it, except a refusal at the deadline (the kernel ends it). */
  const failed = (e: unknown, fn: string): ServeOutcome => {
    s.extism.end();
    if (e instanceof CallExpired) {
      // Unwound half-way, or returned late: it serves nothing more, and the kernel restarts it.
      spent = true;
      return { ok: false, error: new KernelError('kernel/timeout', `${fn} did not answer within its deadline`, { fn }).toJSON() };
    }
    const how: ProcessExit =
      e instanceof WASIProcExit
        ? { code: e.code, reason: 'exited' }
        : e instanceof ExtismMemoryFault
          ? { code: EXIT_CODES['memory-exceeded'], reason: 'memory-exceeded', message: e.message }
          : s.trapped(e, memory);
    finish(how);
    // A refusal from the kernel (a host not allowed, a host function not granted) keeps its code; so does a memory limit.
    if (e instanceof KernelError && (e.code === 'service/host-not-allowed' || e.code === 'kernel/denied')) return refuse(e.code, e.message, fn, { ...e.details, reason: how.reason });
    // A kernel call that failed (an HTTP response over its cap, a host function that threw) keeps its details.
    if (e instanceof KernelError && e.code === 'service/error' && how.reason === 'crashed') return refuse(e.code, `${fn} ended the service: ${e.message}`, fn, { ...e.details, reason: how.reason });
    const why = how.message ?? `it exited with code ${how.code}`;
    const code = how.reason === 'memory-exceeded' ? 'service/memory-exceeded' : 'service/error';
    return refuse(code, `${fn} ended the service (${how.reason}): ${why}`, fn, { reason: how.reason });
  };
  const answered = (rc: unknown, fn: string): ServeOutcome => {
    const { output, error } = s.extism.end();
    if (error !== undefined) return refuse('service/error', error, fn);
    if (rc !== undefined && rc !== 0 && rc !== 0n) return refuse('service/error', `${fn} returned ${String(rc)}`, fn, { returned: Number(rc) });
    return { ok: true, output };
  };
  if (s.promising === true) return { exit, serveAsync, ended: () => ended || spent };
  return { exit, serve, ended: () => ended };
}

function refuse(code: 'service/error' | 'service/no-such-function' | 'service/host-not-allowed' | 'service/memory-exceeded' | 'kernel/denied', message: string, fn: string, details: Record<string, unknown> = {}): ServeOutcome {
  return { ok: false, error: new KernelError(code, message, { fn, ...details }).toJSON() };
}
