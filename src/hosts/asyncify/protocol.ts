/**
 * Wire protocol between the page and the worker that rewrites modules with binaryen
 * (worker.ts): the Asyncify pass, or the count-malloc transform. Types and names only.
 */

/** Page to worker: the module's bytes and the rewrite (`asyncify` when absent). */
export interface InstrumentRequest {
  bytes: Uint8Array;
  op?: 'asyncify' | 'count-malloc';
}

/** Worker to page: the instrumented bytes, or why the pass could not handle the module. */
export type InstrumentReply = { ok: true; bytes: Uint8Array; globals: number } | { ok: false; message: string };
