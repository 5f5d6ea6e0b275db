/**
 * Service calls (`kernel.call`, `webmk_call`): a module without `_start` stays instantiated in a
 * process of its own and runs one call at a time, in the order they came. Each call has a
 * deadline; a call still running at its deadline ends the instance, which starts again fresh
 * (never left half-way). The kernel knows which service waits on which (a service blocked in a
 * call of its own): a call that would close a cycle (A -> B -> A, or A waiting on B while B calls
 * A from another chain) fails at once with `service/call-loop`, never a deadlock.
 */
import type { CallTable, Caller } from '../capability';
import { KernelError, MAX_CALL_TIMEOUT_MS, serviceSettings, type ModuleInfo, type RestartPolicy } from '../common';
import { CallSpace, allocateCallSpace, toBase64, unthrottledTimer } from '../ipc';
import { DirectPaths } from './direct-calls';
import type { HostedProcess } from '../hosts';
import type { Lifecycle } from './lifecycle';
import type { ServiceStats } from './types';

/** The deadline of a call that gives none, ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** The largest input of a call, bytes. */
export const MAX_CALL_INPUT = 16 * 1024 * 1024;

/** What the service calls need of the kernel. */
export interface ServiceDeps {
  /** Starts a fresh instance of a service module (checked: installed, a service, worker mode). */
  start(name: string): Promise<Lifecycle>;
  /** The module as installed now; undefined when there is none. */
  lookup(name: string): Promise<ModuleInfo | undefined>;
  denied(caller: Caller, permission: string): void;
  /** Whether process `pid` runs where it shares the call space and may block (the worker mode): it may be given direct paths. */
  directCaller(pid: number): boolean;
  /** Resumes a hibernated instance (a migratable service parked between calls, ADR 0028). */
  resume(lc: Lifecycle): Promise<void>;
  /** Makes the call on another node (ADR 0038). */
  remoteCall(node: string, module: string, fn: string, input: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
}

/**
 * How a service instance is supervised when its configuration and manifest say nothing: started
 * again at once after a trap, at most 10 times a minute.
 */
export const SERVICE_RESTART: RestartPolicy = { restart: 'transient', intensity: 10, periodMs: 60_000, backoff: { initialMs: 0 } };

/**
 * Registers `service.call`, the guest side of `webmk_call`: the output crosses as base64; a glue
 * that can take a direct path (`direct: true`) gets `{ base64, direct? }` (ADR 0027). And
 * `service.expired`: a direct call the caller gave up at its deadline while it ran.
 */
export function registerServiceCalls(calls: CallTable, services: Services): void {
  calls.handle('service.call', async (caller, args) => {
    const a = (typeof args === 'object' && args !== null ? args : {}) as { module?: unknown; fn?: unknown; input?: unknown; direct?: unknown; until?: unknown };
    const out = await services.call(caller, a.module, a.fn, a.input ?? new Uint8Array(0), undefined, typeof a.until === 'number' ? a.until : undefined);
    if (a.direct !== true) return { value: toBase64(out) };
    const direct = services.direct.grant(caller, a.module);
    return { value: { base64: toBase64(out), ...(direct !== undefined ? { direct } : {}) } };
  });
  calls.handle('service.expired', (caller, args) => {
    services.direct.expired(caller, args);
    return { value: null };
  });
}

interface Call {
  fn: string;
  input: Uint8Array;
  deadline: number;
  ok: (out: Uint8Array) => void;
  fail: (e: KernelError) => void;
}

interface Instance {
  name: string;
  lc: Lifecycle;
  queue: Call[];
  busy: Call | undefined;
  /** The service this one is blocked calling, while it is; `token` tells which call set it. */
  waitingOn: { target: string; token: object } | undefined;
  /** Set while it moves onto a newer version between two calls. */
  switching: boolean;
}


const enc = new TextEncoder();

/** The service instances and their queues. */
export class Services {
  private readonly instances = new Map<string, Instance>();
  private readonly starting = new Map<string, Promise<Instance>>();
  /** Calls that reached a service's queue, and those that failed, per module name (kept across instances). */
  private readonly counts = new Map<string, { calls: number; errors: number }>();
  /** The call space every worker process shares, and the direct paths granted on it (ADR 0027). */
  readonly direct: DirectPaths<Instance>;

  constructor(private readonly deps: ServiceDeps) {
    this.direct = new DirectPaths(new CallSpace(allocateCallSpace()), {
      instances: () => this.instances.values(),
      directCaller: (pid) => deps.directCaller(pid),
      timeoutMs: (inst) => {
        const settings = serviceSettings(inst.lc.latest.info.manifest);
        return (typeof settings === 'string' ? undefined : settings.timeoutMs) ?? DEFAULT_CALL_TIMEOUT_MS;
      },
      restart: (inst) => this.expire(inst),
    });
  }

  /**
   * Calls `fn` of service `module` with `input`, for the page (`from` undefined) or for a
   * module's process. Resolves with the output bytes. Rejects with `kernel/bad-argument`,
   * `kernel/denied`, `kernel/unknown-module`, `service/not-a-service`, `kernel/unsupported`,
   * `service/no-such-function`, `service/error`, `service/call-loop`, `kernel/timeout`.
   */
  async call(from: Caller | undefined, module: unknown, fn: unknown, input: unknown, opts: unknown, until?: number): Promise<Uint8Array> {
    const started = performance.now();
    const args = checkCall(module, fn, input, opts);
    if (from !== undefined && !(from.grants.call ?? []).includes(args.module)) {
      this.deps.denied(from, `call:${args.module}`);
      throw new KernelError('kernel/denied', `"${from.name}" was not granted call:${args.module}`, { permission: `call:${args.module}` });
    }
    if (args.node !== undefined) return this.callOn(args.node, args, started);
    const me = from === undefined ? undefined : this.callerInstance(from);
    // Marked waiting before the loop is looked for: a direct call closing the cycle at the same
    // moment looks the other way round (set, then look), so one of the two sees it.
    const token = {};
    if (me !== undefined) this.direct.setWaiting(me, { target: args.module, token });
    try {
      return await this.callAs(me, args, started, until);
    } finally {
      if (me?.waitingOn?.token === token) this.direct.setWaiting(me, undefined);
    }
  }

  private async callAs(me: Instance | undefined, args: ReturnType<typeof checkCall>, started: number, until: number | undefined): Promise<Uint8Array> {
    this.refuseLoop(me, args.module);
    const info = await this.deps.lookup(args.module);
    if (info === undefined) throw new KernelError('kernel/unknown-module', `no module named "${args.module}"`, { name: args.module });
    if (info.kind !== 'wasm' || info.command) {
      throw new KernelError('service/not-a-service', `"${args.module}" is a command (it has _start), not a service`, { name: args.module });
    }
    if (!info.exports.some((e) => e.kind === 'function' && e.name === args.fn) || args.fn.startsWith('_')) {
      throw new KernelError('service/no-such-function', `"${args.module}" exports no function "${args.fn}"`, { name: args.module, fn: args.fn });
    }
    const inst = await this.instance(args.module, info);
    // The chain may have changed while the module was looked up.
    this.refuseLoop(me, args.module);
    const settings = serviceSettings(info.manifest);
    const timeoutMs = args.timeoutMs ?? (typeof settings === 'string' ? undefined : settings.timeoutMs) ?? DEFAULT_CALL_TIMEOUT_MS;
    let deadline = started + timeoutMs;
    if (me?.busy !== undefined) deadline = Math.min(deadline, me.busy.deadline);
    if (until !== undefined) deadline = Math.min(deadline, until - performance.timeOrigin);
    const count = this.counts.get(args.module) ?? { calls: 0, errors: 0 };
    this.counts.set(args.module, count);
    count.calls++;
    try {
      return await new Promise<Uint8Array>((ok, fail) => {
        inst.queue.push({ fn: args.fn, input: args.input, deadline, ok, fail });
        this.pump(inst);
      });
    } catch (e) {
      count.errors++;
      throw e;
    }
  }

  /** A call made on another node: its instance, queue and deadline are that node's. */
  private async callOn(node: string, args: ReturnType<typeof checkCall>, started: number): Promise<Uint8Array> {
    const timeoutMs = args.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const left = Math.max(1, timeoutMs - (performance.now() - started));
    return this.deps.remoteCall(node, args.module, args.fn, args.input, left);
  }

  /** Each live service: its pid, calls queued, whether one runs, and its calls and errors so far. */
  stats(): ServiceStats[] {
    return [...this.instances.values()].map((i) => {
      const direct = this.direct.counted(i.name);
      return {
        name: i.name,
        pid: i.lc.row.pid,
        queued: i.queue.length,
        busy: i.busy !== undefined || this.direct.running(i),
        calls: (this.counts.get(i.name)?.calls ?? 0) + direct.calls,
        errors: (this.counts.get(i.name)?.errors ?? 0) + direct.errors,
        direct: direct.calls,
      };
    });
  }

  /** The service instance a calling process is, if it is one. */
  private callerInstance(from: Caller): Instance | undefined {
    const inst = this.instances.get(from.name);
    return inst?.lc.row.pid === from.pid ? inst : undefined;
  }

  /** Refuses a call from `me` into `target` when `target` waits, directly or not, on `me`. */
  private refuseLoop(me: Instance | undefined, target: string): void {
    if (me === undefined) return;
    const seen = new Set<string>();
    for (let node: string | undefined = target; node !== undefined && !seen.has(node); node = this.direct.waitsOn(this.instances.get(node))) {
      if (node === me.name) {
        throw new KernelError('service/call-loop', `"${me.name}" calling "${target}" would wait on itself`, { caller: me.name, target, chain: [...seen, node] });
      }
      seen.add(node);
    }
  }

  /**
   * The live instance of `name`, started when there is none, when the last one ended for good,
   * or when the module was reinstalled or regranted since it started and it has no call to finish.
   */
  private instance(name: string, info: ModuleInfo): Promise<Instance> {
    let inst = this.instances.get(name);
    if (inst !== undefined && inst.lc.row.state !== 'exited') {
      // An instance moving onto a newer version (updates.ts) counts as that version.
      const was = inst.lc.latest.info;
      const same = was.sha256 === info.sha256 && JSON.stringify(was.grants) === JSON.stringify(info.grants);
      if (same || inst.busy !== undefined || inst.queue.length > 0 || this.direct.busy(inst)) return Promise.resolve(inst);
      void inst.lc.kill();
      this.instances.delete(name);
      inst = undefined;
    }
    let p = this.starting.get(name);
    if (p === undefined) {
      p = this.deps
        .start(name)
        .then((lc) => {
          const fresh: Instance = { name, lc, queue: [], busy: undefined, waitingOn: undefined, switching: false };
          this.instances.set(name, fresh);
          return fresh;
        })
        .finally(() => this.starting.delete(name));
      this.starting.set(name, p);
    }
    return p;
  }

  /**
   * A hibernated instance brought back after a reload of the page (ADR 0036): it is the service's
   * instance again, and the next call resumes it with the state it had. False when the service
   * has an instance already (this one is then not needed).
   */
  adopt(name: string, lc: Lifecycle): boolean {
    const inst = this.instances.get(name);
    if ((inst !== undefined && inst.lc.row.state !== 'exited') || this.starting.has(name)) return false;
    this.instances.set(name, { name, lc, queue: [], busy: undefined, waitingOn: undefined, switching: false });
    return true;
  }

  /** A newer version of service `name` was installed: its instance moves onto it when no call runs. */
  updated(name: string): void {
    const inst = this.instances.get(name);
    if (inst !== undefined) this.pump(inst);
  }

  /** Runs the next queued call when the instance is free; moves it onto a newer version first. */
  private pump(inst: Instance): void {
    if (inst.busy !== undefined || inst.switching) return;
    if (inst.lc.updatePending && inst.lc.row.state === 'running') {
      inst.switching = true;
      // Direct calls under way finish on the old version; new ones come through the queue.
      void this.direct
        .drain(inst)
        .then(() => inst.lc.switchNow())
        .finally(() => {
          this.direct.reopen(inst);
          inst.switching = false;
          this.pump(inst);
        });
      return;
    }
    const next = inst.queue.shift();
    if (next === undefined) return;
    inst.busy = next;
    void this.run(inst, next).finally(() => {
      inst.busy = undefined;
      this.pump(inst);
    });
  }

  private async run(inst: Instance, c: Call): Promise<void> {
    const left = c.deadline - performance.now();
    const timeout = (): KernelError =>
      new KernelError('kernel/timeout', `${inst.name}.${c.fn} did not answer within its deadline`, { name: inst.name, fn: c.fn });
    if (left <= 0) return c.fail(timeout());
    let expired = false;
    const deadline = unthrottledTimer(left);
    const timer = deadline.fired.then(() => {
      expired = true;
    });
    let hosted: HostedProcess | undefined;
    try {
      // A call for a hibernated instance resumes it; its state is as it was after the last call.
      if (inst.lc.row.state === 'hibernated') void this.deps.resume(inst.lc).catch(() => {});
      hosted = await Promise.race([inst.lc.whenRunning(), timer.then(() => undefined)]);
      if (hosted === undefined) return c.fail(timeout());
      if (hosted.serve === undefined) return c.fail(new KernelError('kernel/unsupported', `"${inst.name}" runs where it cannot serve calls yet`));
      const out = await Promise.race([hosted.serve(c.fn, c.input, performance.timeOrigin + c.deadline), timer.then(() => undefined)]);
      if (out !== undefined) return c.ok(out);
      c.fail(timeout());
      // Never left half-way: the instance is ended and started again fresh.
      this.direct.setWaiting(inst, undefined);
      if (expired && inst.lc.row.state === 'running') await inst.lc.restartNow();
    } catch (e) {
      const err = KernelError.from(e instanceof KernelError ? e : { code: 'service/error', message: String(e) });
      c.fail(err);
      // A host that found the deadline passed itself (on the page, where no timer runs while a
      // call computes): the instance is ended and started again fresh, as above.
      if (err.code === 'kernel/timeout') {
        this.direct.setWaiting(inst, undefined);
        if (inst.lc.row.state === 'running') await inst.lc.restartNow();
        return;
      }
      // The call ended the instance (a trap, an exit): the next call waits for the next one.
      if (hosted !== undefined && err.details.reason !== undefined) {
        this.direct.setWaiting(inst, undefined);
        await hosted.exited;
      }
    } finally {
      deadline.cancel();
    }
  }

  /** Ends and restarts an instance whose direct call passed its deadline while it ran (never left half-way). */
  private expire(inst: Instance): void {
    this.direct.setWaiting(inst, undefined);
    if (inst.lc.row.state === 'running') void inst.lc.restartNow();
  }
}

/** The checked arguments of a call. */
function checkCall(module: unknown, fn: unknown, input: unknown, opts: unknown): { module: string; fn: string; input: Uint8Array; timeoutMs: number | undefined; node?: string } {
  const bad = (message: string): never => {
    throw new KernelError('kernel/bad-argument', message);
  };
  if (typeof module !== 'string') bad('the module name must be a string');
  if (typeof fn !== 'string' || fn.length === 0 || fn.length > 1024) bad('the function name must be a non-empty string');
  const bytes = input === undefined ? new Uint8Array(0) : typeof input === 'string' ? enc.encode(input) : input instanceof Uint8Array ? input.slice() : bad('the input must be a Uint8Array or a string');
  if (bytes.length > MAX_CALL_INPUT) bad(`the input is over ${MAX_CALL_INPUT} bytes`);
  const o = opts === undefined ? {} : typeof opts === 'object' && opts !== null ? (opts as Record<string, unknown>) : bad('call options must be an object');
  const t = o.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !(t > 0) || t > MAX_CALL_TIMEOUT_MS)) bad(`timeoutMs must be a number of ms in (0, ${MAX_CALL_TIMEOUT_MS}]`);
  if (o.node !== undefined && typeof o.node !== 'string') bad('node must be a node id');
  return { module: module as string, fn: fn as string, input: bytes, timeoutMs: t as number | undefined, ...(typeof o.node === 'string' ? { node: o.node } : {}) };
}
