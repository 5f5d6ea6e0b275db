/**
 * The raw baseline: a worker that runs a WASI command with the bare @bjorn3/browser_wasi_shim,
 * the way a page without webmk would (stdin an empty file, stdout/stderr ConsoleStdout).
 * One run per message; the worker stays alive so the page can reuse it (the "warm" floor).
 */
import { ConsoleStdout, File, OpenFile, WASI, WASIProcExit } from '@bjorn3/browser_wasi_shim';
import type { RawReply, RunRequest } from './lib/protocol';

interface WorkerScope {
  postMessage(message: RawReply): void;
  onmessage: ((e: MessageEvent<RunRequest>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

/** ENOSYS, negated: what webmk answers a `webmk` call it does not offer. */
const NOT_SUPPORTED = -52;

/**
 * Every function import from outside WASI (a fixture's `webmk` imports) as a stub answering
 * -ENOSYS, so such a module instantiates; a module that calls one gets nothing done.
 */
function stubs(module: WebAssembly.Module): WebAssembly.Imports {
  const out: Record<string, Record<string, () => number>> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    if (i.module === 'wasi_snapshot_preview1' || i.kind !== 'function') continue;
    (out[i.module] ??= {})[i.name] = () => NOT_SUPPORTED;
  }
  return out;
}

scope.onmessage = (e) => {
  const req = e.data;
  const lines: string[] = [];
  const stdout =
    req.stdout === 'collect'
      ? ConsoleStdout.lineBuffered((line) => lines.push(line))
      : // Copied, not transferred: the shim reports data.byteLength as written after this call.
        new ConsoleStdout((data) => scope.postMessage({ type: 'out', data }));
  const stderr = ConsoleStdout.lineBuffered(() => {});
  const wasi = new WASI(req.args, req.env, [new OpenFile(new File([])), stdout, stderr]);
  let code: number;
  try {
    const module = req.module instanceof WebAssembly.Module ? req.module : new WebAssembly.Module(req.module as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, { ...stubs(module), wasi_snapshot_preview1: wasi.wasiImport });
    code = wasi.start(instance as unknown as Parameters<WASI['start']>[0]);
  } catch (err) {
    code = err instanceof WASIProcExit ? err.code : 134;
  }
  scope.postMessage({ type: 'done', code, stdout: lines.join('\n') });
};
