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
  const worker = new Worker(transformUrl, { type: 'module', name: 'webmk: asyncify' });
  try {
    const reply = await new Promise<unknown>((ok, fail) => {
      const timer = setTimeout(() => fail(new KernelError('registry/not-migratable', `the Asyncify pass took more than ${TRANSFORM_TIMEOUT_MS / 1000} s`)), TRANSFORM_TIMEOUT_MS);
      worker.onmessage = (e) => {
        clearTimeout(timer);
        ok(e.data);
      };
      worker.onerror = (e) => {
        clearTimeout(timer);
        e.preventDefault();
        fail(new KernelError('registry/not-migratable', `the Asyncify pass failed: ${e.message || 'its worker failed'}`));
      };
      worker.postMessage({ bytes: bytes.slice() });
    });
    const r = parseReply(reply);
    if (!r.ok) throw new KernelError('registry/not-migratable', `the Asyncify pass refused the module: ${r.message}`);
    await WebAssembly.compile(r.bytes as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
      throw new KernelError('registry/not-migratable', `the instrumented module does not compile: ${e instanceof Error ? e.message : String(e)}`);
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
