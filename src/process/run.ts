/**
 * Runs one WASI process inside a worker: link, instantiate, `_start`, and turn every way it can
 * end into an exit code and a reason. Never throws. A module whose `webmk` imports suspend
 * (JSPI) runs through `WebAssembly.promising`, so the worker's event loop turns while it waits.
 */
import { EXIT_CODES, Errno, type ProcessExit } from '../common';
import { WatchWriter, type FromWorkerMessage, type StartMessage } from '../ipc';
import { createGuestContext, type GuestImports, type GuestProvider, type RunningProcess } from './guest';
import { runScript } from './script';
import { createWasiProcess, WASIProcExit, type WasiProcess } from './wasi';

const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'];

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
  const watch = m.watch === undefined ? undefined : new WatchWriter(m.watch);
  const { ctx, settle } = createGuestContext(m, post, () => memory, watch);
  const proc = createWasiProcess(m);
  const webmk: GuestImports = Object.assign({}, ...providers.map((p) => p(ctx)));
  const exit = (async (): Promise<ProcessExit> => {
    try {
      let instance: WebAssembly.Instance;
      try {
        instance = new WebAssembly.Instance(module, link(module, proc.imports, webmk, watch));
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
      onRunning();
      try {
        return { code: await runStart(proc, instance, start as () => unknown, suspends(module, webmk)), reason: 'exited' };
      } catch (e) {
        return trapped(e, memory, m.maxPages);
      }
    } finally {
      if (!m.keepStdio) proc.closeStdio();
    }
  })();
  return { exit, settle };
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
 * WASI calls from the process, `webmk` calls from the providers; an unknown WASI call answers
 * ENOSYS, an unknown `webmk` call -ENOSYS, and any other import traps if it is ever called. With
 * a watchdog, every call is bracketed for it (suspending imports bracket themselves).
 */
function link(module: WebAssembly.Module, wasi: Record<string, unknown>, webmk: GuestImports, watch: WatchWriter | undefined): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ExportValue>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const ns = (imports[imp.module] ??= {});
    if (imp.kind !== 'function') continue; // unsatisfiable: instantiation reports it
    if (WASI_MODULES.includes(imp.module)) {
      const f = wasi[imp.name];
      ns[imp.name] = watched(typeof f === 'function' ? (f as (...a: unknown[]) => unknown) : () => Errno.NOSYS, watch);
    } else if (imp.module === 'webmk') {
      const f = webmk[imp.name] ?? (() => -Errno.NOSYS);
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
function watched(f: (...args: unknown[]) => unknown, watch: WatchWriter | undefined): WebAssembly.ExportValue {
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

function startFailure(e: unknown): ProcessExit {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError && /memory/i.test(message)) {
    return { code: EXIT_CODES['memory-exceeded'], reason: 'memory-exceeded', message };
  }
  return { code: EXIT_CODES.failed, reason: 'failed', message };
}

function trapped(e: unknown, memory: WebAssembly.Memory, maxPages: number): ProcessExit {
  if (e instanceof WASIProcExit) return { code: e.code, reason: 'exited' };
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
