/**
 * Makes a module migratable: its bytes instrumented with binaryen's Asyncify on its blocking
 * imports, its internal mutable globals exported (ADR 0019). The pass runs in a dedicated worker
 * made for the one request and ended after it, so the page never stalls and binaryen's 14.8 MB
 * are loaded only when a migratable module is installed.
 */
import { KernelError } from '../../common';
import transformUrl from './worker.ts?worker&url';
import type { InstrumentReply } from './protocol';

/** How long the pass may take before the install gives up (binaryen took 1.1-1.5 s on cat/wc). */
const TRANSFORM_TIMEOUT_MS = 120_000;

/**
 * Exports a module must have to be instrumented: its memory, and `_start` (a WASI command) or
 * other functions (a service, parked between two calls: ADR 0028).
 */
function checkShape(module: WebAssembly.Module): void {
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    throw new KernelError('registry/not-migratable', 'the module exports no memory: its state could not be captured');
  }
  if (!exports.some((e) => e.kind === 'function')) {
    throw new KernelError('registry/not-migratable', 'the module exports no function: nothing of it runs');
  }
}

/**
 * The instrumented bytes of a WebAssembly module. Rejects with `registry/not-migratable` (the
 * pass refused or failed: shared memory, no memory, no function, already instrumented, a
 * timeout), carrying the reason in its message.
 */
export async function instrumentAsyncify(bytes: Uint8Array): Promise<Uint8Array> {
  checkShape(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
  return rewrite(bytes, 'asyncify', 'registry/not-migratable');
}

/**
 * The count-malloc transform (count-malloc.ts): the module rewritten to count its calls to
 * malloc and report them on stderr at its end. Rejects with `transform/failed` (no malloc to
 * count, not a command, the pass failed), which `kernel.transforms` reports and skips.
 */
export async function countMallocTransform(bytes: Uint8Array): Promise<Uint8Array> {
  return rewrite(bytes, 'count-malloc', 'transform/failed');
}

/** Runs one binaryen rewrite in a worker of its own; failures become `code`. */
async function rewrite(bytes: Uint8Array, op: 'asyncify' | 'count-malloc', code: 'registry/not-migratable' | 'transform/failed'): Promise<Uint8Array> {
  const what = op === 'asyncify' ? 'the Asyncify pass' : 'the count-malloc transform';
  const worker = new Worker(transformUrl, { type: 'module', name: `webmk: ${op}` });
  try {
    const reply = await new Promise<unknown>((ok, fail) => {
      const timer = setTimeout(() => fail(new KernelError(code, `${what} took more than ${TRANSFORM_TIMEOUT_MS / 1000} s`)), TRANSFORM_TIMEOUT_MS);
      worker.onmessage = (e) => {
        clearTimeout(timer);
        ok(e.data);
      };
      worker.onerror = (e) => {
        clearTimeout(timer);
        e.preventDefault();
        fail(new KernelError(code, `${what} failed: ${e.message || 'its worker failed'}`));
      };
      worker.postMessage({ bytes: bytes.slice(), op });
    });
    const r = parseReply(reply);
    if (!r.ok) throw new KernelError(code, `${what} refused the module: ${r.message}`);
    await WebAssembly.compile(r.bytes as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
      throw new KernelError(code, `the rewritten module does not compile: ${e instanceof Error ? e.message : String(e)}`);
    });
    return r.bytes;
  } finally {
    worker.terminate();
  }
}

function parseReply(data: unknown): InstrumentReply {
  const r = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (r.ok === true && r.bytes instanceof Uint8Array && typeof r.globals === 'number') return { ok: true, bytes: r.bytes, globals: r.globals };
  return { ok: false, message: typeof r.message === 'string' ? r.message : 'malformed reply from the Asyncify worker' };
}
