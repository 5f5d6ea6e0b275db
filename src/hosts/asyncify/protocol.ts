/**
 * Wire protocol between the registry (page) and the worker that instruments modules with
 * binaryen's Asyncify (worker.ts). Types and names only.
 */

/** Page to worker: the module's bytes to instrument. */
export interface InstrumentRequest {
  bytes: Uint8Array;
}

/** Worker to page: the instrumented bytes, or why the pass could not handle the module. */
export type InstrumentReply = { ok: true; bytes: Uint8Array; globals: number } | { ok: false; message: string };
