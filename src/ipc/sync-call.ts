/**
 * A blocking request/reply between a module's worker and the page: the worker posts a request,
 * then sleeps with `Atomics.wait` on this buffer until the page writes the answer. It works while
 * the worker runs wasm (no event loop needed on the worker side).
 *
 * Layout: Int32 [state, length, ok, killed] then the answer as UTF-8 JSON. One call at a time
 * per buffer (a process makes one call at a time). `killed` is set by the page when it ends the
 * process: a worker keeps running for a moment after `terminate()`, and its glue must not act
 * for a process the kernel has already reported dead.
 */

const STATE = 0;
const LENGTH = 1;
const OK = 2;
const KILLED = 3;
const HEADER = 16;
const IDLE = 0;
const PENDING = 1;
const DONE = 2;

/** Size of a sync-call buffer: the largest answer is this minus 16 bytes. */
export const SYNC_CALL_BYTES = 256 * 1024;

export function allocateSyncCall(): SharedArrayBuffer {
  return new SharedArrayBuffer(SYNC_CALL_BYTES);
}

/** What came back: a JSON value, or an error's wire form. */
export type SyncAnswer = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Worker side: marks a call pending; post the request after this, then `wait`. */
export function beginSyncCall(sab: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(sab, 0, 4), STATE, PENDING);
}

/** Worker side: blocks until the page answered. */
export function waitSyncCall(sab: SharedArrayBuffer): SyncAnswer {
  const h = new Int32Array(sab, 0, 4);
  while (Atomics.load(h, STATE) === PENDING) Atomics.wait(h, STATE, PENDING);
  const len = Atomics.load(h, LENGTH);
  const text = new TextDecoder().decode(new Uint8Array(sab, HEADER, len).slice());
  const ok = Atomics.load(h, OK) === 1;
  Atomics.store(h, STATE, IDLE);
  const parsed: unknown = len === 0 ? undefined : JSON.parse(text);
  return ok ? { ok: true, value: parsed } : { ok: false, error: parsed };
}

/** Page side: writes the answer and wakes the worker. Too large an answer becomes an error. */
export function answerSyncCall(sab: SharedArrayBuffer, answer: SyncAnswer): void {
  const h = new Int32Array(sab, 0, 4);
  let bytes = new TextEncoder().encode(JSON.stringify(answer.ok ? answer.value : answer.error) ?? '');
  let ok = answer.ok;
  if (bytes.length > sab.byteLength - HEADER) {
    ok = false;
    bytes = new TextEncoder().encode(JSON.stringify({ code: 'ipc/too-large', message: 'the answer is too large', details: {} }));
  }
  new Uint8Array(sab, HEADER, bytes.length).set(bytes);
  Atomics.store(h, LENGTH, bytes.length);
  Atomics.store(h, OK, ok ? 1 : 0);
  Atomics.store(h, STATE, DONE);
  Atomics.notify(h, STATE);
}

/** Page side: the process is ended; its glue must stop acting for it. */
export function markKilled(sab: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(sab, 0, 4), KILLED, 1);
}

/** Worker side: a cheap test, true once the page ended the process (checked on hot paths). */
export function killedFlag(sab: SharedArrayBuffer): () => boolean {
  const h = new Int32Array(sab, 0, 4);
  return () => Atomics.load(h, KILLED) !== 0;
}
