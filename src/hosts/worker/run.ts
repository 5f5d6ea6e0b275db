/**
 * Runs one WASI process inside a worker: link, instantiate, `_start`, and turn every way it can
 * end into an exit code and a reason. Never throws.
 */
import { createWasiProcess, WASIProcExit } from '../../wasi';
import type { StartMessage } from '../../ipc/worker-protocol';
import { EXIT_CODES, type HostExit } from '../types';

const ENOSYS = 52;
const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'];

/** Thrown by an import nobody provides, when the module calls it. */
class UnresolvedImport extends Error {}

export function runProcess(m: StartMessage, onRunning: () => void): HostExit {
  const proc = createWasiProcess(m);
  try {
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(m.module, link(m.module, proc.imports));
    } catch (e) {
      return startFailure(e);
    }
    if (typeof instance.exports._start !== 'function') {
      return { code: EXIT_CODES.failed, reason: 'failed', message: 'not a WASI command: it exports no _start' };
    }
    if (!(instance.exports.memory instanceof WebAssembly.Memory)) {
      return { code: EXIT_CODES.failed, reason: 'failed', message: 'the module exports no memory' };
    }
    onRunning();
    try {
      return { code: proc.start(instance), reason: 'exited' };
    } catch (e) {
      return trapped(e, instance.exports.memory, m.maxPages);
    }
  } finally {
    proc.closeStdio();
  }
}

/** WASI calls from the process; unknown WASI calls answer ENOSYS; other imports trap if called. */
function link(module: WebAssembly.Module, wasi: Record<string, unknown>): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ExportValue>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const ns = (imports[imp.module] ??= {});
    if (imp.kind !== 'function') continue; // unsatisfiable: instantiation reports it
    const fromWasi = WASI_MODULES.includes(imp.module) ? wasi[imp.name] : undefined;
    ns[imp.name] =
      typeof fromWasi === 'function'
        ? (fromWasi as WebAssembly.ExportValue)
        : WASI_MODULES.includes(imp.module)
          ? () => ENOSYS
          : () => {
              throw new UnresolvedImport(`called ${imp.module}.${imp.name}, which nothing provides`);
            };
  }
  return imports;
}

function startFailure(e: unknown): HostExit {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError && /memory/i.test(message)) {
    return { code: EXIT_CODES['memory-exceeded'], reason: 'memory-exceeded', message };
  }
  return { code: EXIT_CODES.failed, reason: 'failed', message };
}

function trapped(e: unknown, memory: WebAssembly.Memory, maxPages: number): HostExit {
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
