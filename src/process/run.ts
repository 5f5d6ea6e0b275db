/**
 * Runs one WASI process inside a worker: link, instantiate, `_start`, and turn every way it can
 * end into an exit code and a reason. Never throws. A module whose `webmk` imports suspend
 * (JSPI) runs through `WebAssembly.promising`, so the worker's event loop turns while it waits.
 */
import { EXIT_CODES, Errno, type ProcessExit } from '../common';
import { MIGRATE_CONTROL, PARK_CALL, WatchWriter, fromBase64, killedFlag, serveSlot, toBase64, type DirectServe, type FromWorkerMessage, type Snapshot, type StartMessage } from '../ipc';
import { Parkable, isInstrumented } from './asyncify';
import { isLinkedNamespace, linkedImport } from './capabilities/linked';
import { ExtismHost, ExtismFault, type HttpAnswer } from './extism';
import { instanceGroup } from './instance-group';
import { EXTISM_USER, hostFunction } from './host-functions';
import { ProcessKilled, createGuestContext, type DirectCalls, type GuestContext, type GuestFunction, type GuestImports, type GuestProvider, type RunningProcess, type Watch } from './guest';
import { CallExpired, EXTISM_ENV, serveLoop } from './serve';
import { runScript } from './script';
import { createWasiProcess, WASIProcExit, type WasiProcess } from './wasi';

const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'];

/** Extism's host functions as linked: functions, and on the page a suspending `http_request`. */
type ExtismImports = Record<string, ((...args: bigint[]) => unknown) | WebAssembly.Suspending>;

/** Thrown by an import nobody provides, when the module calls it. */
class UnresolvedImport extends Error {}

/** Starts the process `m` describes in this realm; `exit` settles on every way it can end. */
export function runProcess(
  m: StartMessage,
  providers: GuestProvider[],
  post: (msg: FromWorkerMessage, transfer?: Transferable[]) => void,
  onRunning: () => void,
): RunningProcess {
  const module = m.module;
  if (module === undefined) return runScript(m, post, onRunning);
  let memory: WebAssembly.Memory | undefined;
  const watched0 = m.watch === undefined ? undefined : watcher(new WatchWriter(m.watch), m.refuseAfterMs);
  // Where nothing can terminate the module (the page), every host call first checks that the
  // kernel has not ended it: a killed process stops at its next call.
  const suspend = m.suspend === true;
  // A service on the page: no timer runs while its call computes, so the call's deadline is
  // checked at each host call it makes, and at its return (ADR 0032).
  const pageCall = suspend && m.serve === true ? { until: Infinity } : undefined;
  const watch = suspend ? stopsWhenKilled(killedFlag(m.syscall), watched0, pageCall) : watched0;
  // A migratable module in a realm that may block: its blocking reads are safe points (ADR 0019).
  const parkable = m.migrate !== undefined && !suspend && m.serve !== true && isInstrumented(module) ? new Parkable(m.migrate, m.stdin) : undefined;
  const { ctx, settle } = createGuestContext(m, post, () => memory, watch, parkable);
  const proc = createWasiProcess(m, {
    suspend,
    ...(parkable !== undefined ? { park: parkable.pollPark() } : {}),
    ...(m.homes !== undefined && !suspend ? { kernel: (call: string, args: unknown) => ctx.callSync(call, args) } : {}),
    ...(m.fileChannel !== undefined && !suspend ? { fileChannel: m.fileChannel } : {}),
    ...(watch !== undefined
      ? {
          bracket: async <R>(f: () => Promise<R>) => {
            watch.enter();
            try {
              return await f();
            } finally {
              watch.leave();
            }
          },
        }
      : {}),
  });
  if (parkable !== undefined) {
    // Its open files, their offsets and its in-memory tree go with it (ADR 0028).
    parkable.keep('files', () => proc.captureFiles());
    const files = parkable.kept('files');
    if (files !== undefined) proc.restoreFiles(files);
  }
  const webmk: GuestImports = Object.assign({}, ...providers.map((p) => p(ctx)));
  const extism =
    m.serve === true
      ? new ExtismHost(m.stderr, m.serviceConfig ?? {}, {
          ...(m.extism?.maxBytes !== undefined ? { maxBytes: m.extism.maxBytes } : {}),
          ...(m.extism?.maxVarBytes !== undefined ? { maxVarBytes: m.extism.maxVarBytes } : {}),
          ...(!suspend
            ? { http: (req: string, body: Uint8Array | undefined) => httpAnswer(ctx.callSync('extism.http', { req, ...(body !== undefined ? { body: toBase64(body) } : {}) })) }
            : { httpAsync: async (req: string, body: Uint8Array | undefined) => httpAnswer(await ctx.call('extism.http', { req, ...(body !== undefined ? { body: toBase64(body) } : {}) })) }),
        })
      : undefined;
  // On the page `http_request` answers with a promise: the plugin suspends while the kernel fetches.
  const extismImports = (): ExtismImports => {
    const i: ExtismImports = extism?.imports() ?? {};
    const http = i.http_request;
    if (suspend && typeof http === 'function') i.http_request = ctx.suspending(http as unknown as (...a: number[]) => Promise<number>);
    return i;
  };
  // Host functions the page provides (`extism:host/user`): on the page they suspend the plugin.
  const userImport = (name: string): WebAssembly.ExportValue | undefined => {
    if (extism === undefined) return undefined;
    const f = hostFunction(ctx, extism, name);
    return (suspend ? ctx.suspending(f as (...a: number[]) => Promise<number>) : f) as WebAssembly.ExportValue;
  };
  if (extism !== undefined) {
    const served = serveLoop({
      proc,
      extism,
      keepStdio: m.keepStdio,
      instantiate: () => {
        const named = instantiateLinked(m.extism?.linked ?? [], extismImports(), watch, userImport);
        return new WebAssembly.Instance(module, link(module, proc.imports, webmk, watch, extismImports(), (ns, n) => linkedImport(ctx, ns, n), named, group(m, ctx, watch), userImport));
      },
      bindMemory: (mem) => (memory = mem),
      onRunning,
      startFailure,
      trapped: (e, mem) => trapped(e, mem, m.maxPages),
      ...(watch !== undefined ? { watch } : {}),
      ...(ctx.direct !== undefined ? { deadline: ctx.direct } : pageCall !== undefined ? { deadline: pageCall, promising: true } : {}),
      // A migratable service parks between two calls (ADR 0028).
      ...(m.migrate !== undefined && !suspend && isInstrumented(module)
        ? { migrate: m.migrate, parked: (snap: Snapshot) => ctx.notify(PARK_CALL, snap, [snap.memory.buffer]) }
        : {}),
    });
    return { ...served, settle, ...directServer(m, ctx.direct, served) };
  }
  /** Whether `_start` was reached: a start that failed before leaves the streams to the kernel (it may try again). */
  let ran = false;
  const exit = (async (): Promise<ProcessExit> => {
    try {
      let instance: WebAssembly.Instance;
      try {
        const wasi = parkable !== undefined ? parkable.wrap(proc.imports) : proc.imports;
        instance = new WebAssembly.Instance(module, link(module, wasi, parkable !== undefined ? parkable.wrapWebmk(webmk) : webmk, watch, undefined, (ns, n) => linkedImport(ctx, ns, n), undefined, group(m, ctx, watch)));
        parkable?.bind(instance);
      } catch (e) {
        return startFailure(e);
      }
      const start = instance.exports._start;
      if (typeof start !== 'function') {
        return { code: EXIT_CODES.failed, reason: 'failed', message: 'not a WASI command: it exports no _start' };
      }
      if (!(instance.exports.memory instanceof WebAssembly.Memory)) {
        return { code: EXIT_CODES.failed, reason: 'failed', message: 'the module exports no memory' };
      }
      memory = instance.exports.memory;
      ran = true;
      onRunning();
      try {
        const code = await runStart(proc, instance, start as () => unknown, suspend || suspends(module, webmk));
        if (parkable?.unwound === true) {
          // Parked: the snapshot goes to the kernel before the exit does; the streams stay open for the next start.
          const snapshot = parkable.capture();
          ctx.notify(PARK_CALL, snapshot, [snapshot.memory.buffer]);
          return { code: 0, reason: 'exited', message: 'parked' };
        }
        return { code, reason: 'exited' };
      } catch (e) {
        return trapped(e, memory, m.maxPages);
      }
    } finally {
      if (ran) proc.keepFiles();
      if (!m.keepStdio && ran && parkable?.unwound !== true) proc.closeStdio();
    }
  })();
  return { exit, settle };
}

/**
 * Instantiates the modules an Extism plugin links by name, in order, as Extism does: each sees
 * the same Extism host and the exports of those before it; WASI and `webmk` calls answer ENOSYS
 * (they have no memory of the process's to work on). Their `_initialize` runs, if they export one.
 */
function instantiateLinked(
  linked: ReadonlyArray<{ name: string; module: WebAssembly.Module }>,
  extism: ExtismImports,
  watch: Watch | undefined,
  user?: (name: string) => WebAssembly.ExportValue | undefined,
): Record<string, WebAssembly.Exports> {
  const named: Record<string, WebAssembly.Exports> = {};
  for (const l of linked) {
    const inst = new WebAssembly.Instance(l.module, link(l.module, {}, {}, watch, extism, undefined, named, undefined, user));
    const init = inst.exports._initialize;
    if (typeof init === 'function') (init as () => unknown)();
    named[l.name] = inst.exports;
  }
  return named;
}

/**
 * The providers instantiated beside the process (its instance group, ADR 0033), as the lookup
 * of their imports; undefined without a group. Throws (a start failure) when one cannot start.
 */
function group(m: StartMessage, ctx: GuestContext, watch: Watch | undefined): ((namespace: string, fn: string) => GuestFunction | undefined) | undefined {
  if (m.group === undefined) return undefined;
  return instanceGroup(m.group, m.stderr, () => ctx.memory(), {
    link: (module, extism, named) => link(module, {}, {}, watch, extism, undefined, named),
    linked: (members, extism) => instantiateLinked(members, extism, watch),
  });
}

/** The kernel's answer to `extism.http`, checked. */
function httpAnswer(a: unknown): HttpAnswer {
  const r = (typeof a === 'object' && a !== null ? a : {}) as { status?: unknown; body?: unknown };
  if (typeof r.status !== 'number' || typeof r.body !== 'string') throw new ExtismFault('the kernel answered http_request in an unknown shape');
  return { status: r.status, body: fromBase64(r.body) };
}

/** A service with a call slot serves direct calls on it, between the kernel's messages (ADR 0027). */
function directServer(m: StartMessage, direct: DirectCalls | undefined, served: ReturnType<typeof serveLoop>): Pick<RunningProcess, 'serveDirect'> {
  const slot = m.callSlot;
  const serve = served.serve;
  // A request to park (ADR 0028) ends the wait on the slot too: the event loop then parks it.
  const park = m.migrate === undefined ? undefined : new Int32Array(m.migrate.control);
  const ended = served.ended === undefined ? undefined : (): boolean => served.ended?.() === true || (park !== undefined && Atomics.load(park, MIGRATE_CONTROL.park) !== 0);
  if (slot === undefined || direct === undefined || serve === undefined || ended === undefined) return {};
  const call: DirectServe = (fn, input, until) => serve(fn, input, until);
  return { serveDirect: (received) => serveSlot(direct.space, slot.slot, slot.serial, call, received, ended) };
}

/** True when the module imports a suspending function, so `_start` must run promising. */
function suspends(module: WebAssembly.Module, webmk: GuestImports): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.module === 'webmk' && webmk[i.name] instanceof WebAssembly.Suspending);
}

async function runStart(proc: WasiProcess, instance: WebAssembly.Instance, start: () => unknown, promising: boolean): Promise<number> {
  if (!promising) return proc.start(instance);
  proc.bind(instance);
  try {
    await WebAssembly.promising(start)();
    return 0;
  } catch (e) {
    if (e instanceof WASIProcExit) return e.code;
    throw e;
  }
}

/**
 * WASI calls from the process, `webmk` calls from the providers, an Extism plugin's linked modules
 * by name (`named`), host functions (`user`), a module-named namespace linked directly to a
 * provider in the process's instance group (`group`, not bracketed: its computing counts for the
 * watchdog) or else
 * through the kernel (capabilities/linked.ts); an unknown WASI call answers ENOSYS, an unknown
 * `webmk` call -ENOSYS, and any other import traps if it is ever called. With
 * a watchdog, every call is bracketed for it (suspending imports bracket themselves).
 */
function link(
  module: WebAssembly.Module,
  wasi: Record<string, unknown>,
  webmk: GuestImports,
  watch: Watch | undefined,
  extism?: ExtismImports,
  linked?: (namespace: string, name: string) => GuestImports[string],
  named?: Record<string, WebAssembly.Exports>,
  group?: (namespace: string, name: string) => GuestFunction | undefined,
  user?: (name: string) => WebAssembly.ExportValue | undefined,
): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ExportValue>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const ns = (imports[imp.module] ??= {});
    // A module an Extism plugin links by this name: its exports as they are, of any kind.
    const from = named?.[imp.module];
    if (from !== undefined) {
      const v = from[imp.name];
      if (v !== undefined) ns[imp.name] = v;
      continue; // missing: instantiation reports it (a LinkError naming the import)
    }
    if (imp.kind !== 'function') continue; // unsatisfiable: instantiation reports it
    if (WASI_MODULES.includes(imp.module)) {
      const f = wasi[imp.name];
      ns[imp.name] =
        f instanceof WebAssembly.Suspending
          ? (f as unknown as WebAssembly.ExportValue)
          : watched(typeof f === 'function' ? (f as (...a: unknown[]) => unknown) : () => Errno.NOSYS, watch);
    } else if (imp.module === 'webmk') {
      const f = webmk[imp.name] ?? (() => -Errno.NOSYS);
      ns[imp.name] = f instanceof WebAssembly.Suspending ? (f as unknown as WebAssembly.ExportValue) : watched(f as (...a: unknown[]) => unknown, watch);
    } else if (imp.module === EXTISM_ENV && extism?.[imp.name] !== undefined) {
      const f = extism[imp.name];
      ns[imp.name] = f instanceof WebAssembly.Suspending ? (f as unknown as WebAssembly.ExportValue) : watched(f as (...a: unknown[]) => unknown, watch);
    } else if (imp.module === EXTISM_USER && user !== undefined) {
      const f = user(imp.name);
      if (f !== undefined) ns[imp.name] = f instanceof WebAssembly.Suspending ? f : watched(f as (...a: unknown[]) => unknown, watch);
    } else if (linked !== undefined && imp.module !== EXTISM_ENV && isLinkedNamespace(imp.module)) {
      const direct = group?.(imp.module, imp.name);
      if (direct !== undefined) {
        ns[imp.name] = direct as WebAssembly.ExportValue;
        continue;
      }
      const f = linked(imp.module, imp.name);
      ns[imp.name] = f instanceof WebAssembly.Suspending ? (f as unknown as WebAssembly.ExportValue) : watched(f as (...a: unknown[]) => unknown, watch);
    } else {
      ns[imp.name] = () => {
        throw new UnresolvedImport(`called ${imp.module}.${imp.name}, which nothing provides`);
      };
    }
  }
  return imports;
}

/** The import as it is, or bracketed for the watchdog. */
function watched(f: (...args: unknown[]) => unknown, watch: Watch | undefined): WebAssembly.ExportValue {
  if (watch === undefined) return f as WebAssembly.ExportValue;
  return ((...args: unknown[]) => {
    watch.enter();
    try {
      return f(...args);
    } finally {
      watch.leave();
    }
  }) as WebAssembly.ExportValue;
}

function stopsWhenKilled(killed: () => boolean, inner: Watch | undefined, call: { until: number } | undefined): Watch {
  return {
    enter: () => {
      if (killed()) throw new ProcessKilled('the process was killed');
      if (call !== undefined && performance.timeOrigin + performance.now() > call.until) throw new CallExpired('the call passed its deadline');
      inner?.enter();
    },
    leave: () => inner?.leave(),
  };
}

/** The module computed past its watchdog where the kernel could not stop it: refused at its next call. */
class WatchdogExpired extends Error {}

/**
 * The watchdog words, and, where nothing can interrupt the module (the page), the refusal of the
 * first call it makes after computing longer than `refuseAfterMs`.
 */
function watcher(w: WatchWriter, refuseAfterMs: number | undefined): Watch {
  if (refuseAfterMs === undefined) return w;
  let since = performance.now();
  return {
    enter: () => {
      const computed = performance.now() - since;
      if (computed > refuseAfterMs) {
        throw new WatchdogExpired(`computed ${Math.round(computed)} ms without a system call (watchdog ${refuseAfterMs} ms); its next call was refused`);
      }
      w.enter();
    },
    leave: () => {
      w.leave();
      since = performance.now();
    },
  };
}

function startFailure(e: unknown): ProcessExit {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError && /memory/i.test(message)) {
    return { code: EXIT_CODES['memory-exceeded'], reason: 'memory-exceeded', message };
  }
  return { code: EXIT_CODES.failed, reason: 'failed', message };
}

function trapped(e: unknown, memory: WebAssembly.Memory, maxPages: number): ProcessExit {
  if (e instanceof WASIProcExit) return { code: e.code, reason: 'exited' };
  if (e instanceof WatchdogExpired) return { code: EXIT_CODES['watchdog-expired'], reason: 'watchdog-expired', message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  const pages = memory.buffer.byteLength / 65536;
  // A trap with the memory (nearly) at its cap is an allocation that failed: the allocator
  // aborts, or the program dereferences what malloc returned.
  const atCap = pages >= maxPages - Math.max(16, maxPages / 64);
  if (atCap || (e instanceof RangeError && /memory/i.test(message))) {
    return { code: EXIT_CODES['memory-exceeded'], reason: 'memory-exceeded', message: `${message} (${pages} pages of ${maxPages})` };
  }
  if (e instanceof RangeError && /call stack/i.test(message)) {
    return { code: EXIT_CODES.crashed, reason: 'crashed', message: `stack overflow: ${message}` };
  }
  return { code: EXIT_CODES.crashed, reason: 'crashed', message };
}
