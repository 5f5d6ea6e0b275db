/**
 * The channel between a process's worker and the file server (ADR 0025): a blocking request and
 * reply through one SharedArrayBuffer per process. The worker writes a request (JSON arguments
 * and, for a write, the bytes), wakes the server and sleeps in `Atomics.wait`; the server, whose
 * event loop is free to await OPFS, answers (JSON and, for a read, the bytes) and wakes it.
 * File bytes never pass through the page.
 *
 * Layout: Int32 [state, JSON length, data length] at 0, JSON (UTF-8) at JSON_AT, bytes at DATA_AT.
 * One request at a time: the worker is blocked until its answer comes (single producer, single
 * consumer). `closed` is set by the page when the process ends; the server then lets go of
 * everything the process held.
 */

const STATE = 0;
const JSON_LEN = 1;
const DATA_LEN = 2;
const IDLE = 0;
const REQUEST = 1;
const REPLY = 2;
const CLOSED = 3;
const JSON_AT = 64;
/** Room for a request's or an answer's JSON: a listing of about 20,000 names. */
const JSON_BYTES = 1024 * 1024;
const DATA_AT = JSON_AT + JSON_BYTES;

/**
 * The most bytes one read or write moves: a larger one goes in pieces. Each call is two thread
 * switches, which on a loaded machine cost more than the bytes: the worker gathers small
 * sequential writes, and reads ahead, up to this.
 */
export const FILE_CHANNEL_DATA = 4 * 1024 * 1024;

/** A new channel's buffer. */
export function allocateFileChannel(): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA_AT + FILE_CHANNEL_DATA);
}

/** Whether `x` is a channel's buffer (a start message's field, parsed as unknown). */
export function isFileChannel(x: unknown): x is SharedArrayBuffer {
  return x instanceof SharedArrayBuffer && x.byteLength === DATA_AT + FILE_CHANNEL_DATA;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function putJson(sab: SharedArrayBuffer, value: unknown): void {
  // encodeInto refuses shared memory: the (small) JSON is encoded, then copied in.
  const bytes = encoder.encode(JSON.stringify(value));
  if (bytes.length > JSON_BYTES) throw new RangeError('file channel: a request or answer past 1 MiB');
  new Uint8Array(sab, JSON_AT, bytes.length).set(bytes);
  Atomics.store(new Int32Array(sab, 0, 4), JSON_LEN, bytes.length);
}

function takeJson(sab: SharedArrayBuffer): unknown {
  const len = Atomics.load(new Int32Array(sab, 0, 4), JSON_LEN);
  return JSON.parse(decoder.decode(new Uint8Array(sab, JSON_AT, len).slice()));
}

/** An answer: what the server said, and the bytes it put (a view valid until the next call). */
export interface FileAnswer {
  value: unknown;
  data: Uint8Array;
}

/** Worker side: the channel's room for bytes, to gather a write's bytes in before the call that sends them. */
export function fileChannelData(sab: SharedArrayBuffer): Uint8Array {
  return new Uint8Array(sab, DATA_AT, FILE_CHANNEL_DATA);
}

/**
 * Worker side: calls the server and blocks until it answers; `bytes` go with a write (a number:
 * that many already put in `fileChannelData`).
 */
export function callFileServer(sab: SharedArrayBuffer, request: unknown, bytes?: Uint8Array | number): FileAnswer {
  const h = new Int32Array(sab, 0, 4);
  if (Atomics.load(h, STATE) === CLOSED) return { value: { ok: false, code: 'closed' }, data: new Uint8Array(0) };
  putJson(sab, request);
  const n = typeof bytes === 'number' ? bytes : (bytes?.length ?? 0);
  if (bytes !== undefined && typeof bytes !== 'number') new Uint8Array(sab, DATA_AT, n).set(bytes);
  Atomics.store(h, DATA_LEN, n);
  Atomics.store(h, STATE, REQUEST);
  Atomics.notify(h, STATE);
  for (;;) {
    const s = Atomics.load(h, STATE);
    if (s === REPLY) break;
    if (s === CLOSED) return { value: { ok: false, code: 'closed' }, data: new Uint8Array(0) };
    Atomics.wait(h, STATE, s);
  }
  const value = takeJson(sab);
  const data = new Uint8Array(sab, DATA_AT, Atomics.load(h, DATA_LEN));
  Atomics.store(h, STATE, IDLE);
  return { value, data };
}

/** One request as the server sees it: its arguments, the bytes sent, and where to put the answer's bytes. */
export interface FileRequest {
  args: unknown;
  /** The bytes a write sent (a view of the channel). */
  data: Uint8Array;
  /** Room for the bytes of the answer (a view of the channel: read into it directly). */
  out: Uint8Array;
}

/**
 * Server side: answers the channel's requests one after another with `handle` (which answers a
 * JSON value and how many bytes of `out` it filled) until the page closes the channel.
 */
export async function serveFileChannel(sab: SharedArrayBuffer, handle: (r: FileRequest) => Promise<{ value: unknown; n: number }>): Promise<void> {
  const h = new Int32Array(sab, 0, 4);
  for (;;) {
    const s = Atomics.load(h, STATE);
    if (s === CLOSED) return;
    if (s !== REQUEST) {
      const w = Atomics.waitAsync(h, STATE, s);
      if (w.async) await w.value;
      continue;
    }
    const data = new Uint8Array(sab, DATA_AT, Atomics.load(h, DATA_LEN));
    let answer: { value: unknown; n: number };
    try {
      answer = await handle({ args: takeJson(sab), data, out: new Uint8Array(sab, DATA_AT, FILE_CHANNEL_DATA) });
    } catch (e) {
      answer = { value: { ok: false, code: 'io', message: String(e) }, n: 0 };
    }
    if (Atomics.load(h, STATE) === CLOSED) return;
    try {
      putJson(sab, answer.value);
    } catch (e) {
      // Too large an answer (a listing past the room): the process gets EIO, never silence.
      answer = { value: { ok: false, code: 'io', message: String(e) }, n: 0 };
      putJson(sab, answer.value);
    }
    Atomics.store(h, DATA_LEN, answer.n);
    Atomics.store(h, STATE, REPLY);
    Atomics.notify(h, STATE);
  }
}

/** Page side: the process is gone; the server stops serving the channel, and a blocked caller returns. */
export function closeFileChannel(sab: SharedArrayBuffer): void {
  const h = new Int32Array(sab, 0, 4);
  Atomics.store(h, STATE, CLOSED);
  Atomics.notify(h, STATE);
}
