/**
 * The channel between a process's worker and the file server (ADR 0025): a request and its reply
 * through one SharedArrayBuffer per process. The worker writes a request (JSON arguments and, for
 * a write, the bytes in one of two rooms), wakes the server and, for most requests, sleeps in
 * `Atomics.wait` until the answer; the server, whose event loop is free to await OPFS, answers
 * (JSON and, for a read, the bytes) and wakes it. A write may be sent without waiting: the worker
 * fills the other room meanwhile, and takes that answer before its next request. File bytes never
 * pass through the page.
 *
 * Layout: Int32 [state, JSON length, data length, room] at 0, JSON (UTF-8) at JSON_AT, two rooms
 * of FILE_CHANNEL_DATA bytes from DATA_AT. One request at a time (single producer, single
 * consumer). `closed` is set by the page when the process ends; the server then lets go of
 * everything the process held.
 */

const STATE = 0;
const JSON_LEN = 1;
const DATA_LEN = 2;
const ROOM = 3;
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
const BYTES = DATA_AT + 2 * FILE_CHANNEL_DATA;

/** A new channel's buffer (its pages are touched only as they are used). */
export function allocateFileChannel(): SharedArrayBuffer {
  return new SharedArrayBuffer(BYTES);
}

/**
 * Page side: readies a channel the server has released (its last process ended on its own) for
 * another process. Its pages are touched already: a fresh 9 MiB buffer costs a page fault per
 * 4 KiB the first time each room is used (about 3 ms per MiB measured here, ADR 0031).
 */
export function reuseFileChannel(sab: SharedArrayBuffer): void {
  const h = new Int32Array(sab, 0, 4);
  Atomics.store(h, JSON_LEN, 0);
  Atomics.store(h, DATA_LEN, 0);
  Atomics.store(h, ROOM, 0);
  Atomics.store(h, STATE, IDLE);
}

/** Whether `x` is a channel's buffer (a start message's field, parsed as unknown). */
export function isFileChannel(x: unknown): x is SharedArrayBuffer {
  return x instanceof SharedArrayBuffer && x.byteLength === BYTES;
}

/** Room `room` (0 or 1) of a channel. */
function roomOf(sab: SharedArrayBuffer, room: number, length = FILE_CHANNEL_DATA): Uint8Array {
  return new Uint8Array(sab, DATA_AT + (room === 1 ? FILE_CHANNEL_DATA : 0), length);
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

/** Worker side: a room of the channel, to gather a write's bytes in before the request that sends them. */
export function fileChannelData(sab: SharedArrayBuffer, room: 0 | 1 = 0): Uint8Array {
  return roomOf(sab, room);
}

const CLOSED_ANSWER = (): FileAnswer => ({ value: { ok: false, code: 'closed' }, data: new Uint8Array(0) });

/**
 * Worker side: sends a request without waiting; `bytes` go with a write (a number: that many
 * already put in `room`). False if the channel is closed. Take its answer with `takeFileReply`.
 */
export function sendFileRequest(sab: SharedArrayBuffer, request: unknown, bytes?: Uint8Array | number, room: 0 | 1 = 0): boolean {
  const h = new Int32Array(sab, 0, 4);
  if (Atomics.load(h, STATE) === CLOSED) return false;
  putJson(sab, request);
  const n = typeof bytes === 'number' ? bytes : (bytes?.length ?? 0);
  if (bytes !== undefined && typeof bytes !== 'number') roomOf(sab, room, n).set(bytes);
  Atomics.store(h, DATA_LEN, n);
  Atomics.store(h, ROOM, room);
  Atomics.store(h, STATE, REQUEST);
  Atomics.notify(h, STATE);
  return true;
}

/** Worker side: blocks until the request sent is answered. */
export function takeFileReply(sab: SharedArrayBuffer): FileAnswer {
  const h = new Int32Array(sab, 0, 4);
  for (;;) {
    const s = Atomics.load(h, STATE);
    if (s === REPLY) break;
    if (s === CLOSED) return CLOSED_ANSWER();
    Atomics.wait(h, STATE, s);
  }
  const value = takeJson(sab);
  const data = roomOf(sab, Atomics.load(h, ROOM), Atomics.load(h, DATA_LEN));
  Atomics.store(h, STATE, IDLE);
  return { value, data };
}

/** Worker side: calls the server and blocks until it answers (see sendFileRequest). */
export function callFileServer(sab: SharedArrayBuffer, request: unknown, bytes?: Uint8Array | number, room: 0 | 1 = 0): FileAnswer {
  return sendFileRequest(sab, request, bytes, room) ? takeFileReply(sab) : CLOSED_ANSWER();
}

/** One request as the server sees it: its arguments, the bytes sent, and where to put the answer's bytes. */
export interface FileRequest {
  args: unknown;
  /** The bytes a write sent (a view of the channel). */
  data: Uint8Array;
  /** Room for the bytes of the answer (the request's room: read into it directly). */
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
    const room = Atomics.load(h, ROOM);
    const data = roomOf(sab, room, Atomics.load(h, DATA_LEN));
    let answer: { value: unknown; n: number };
    try {
      answer = await handle({ args: takeJson(sab), data, out: roomOf(sab, room) });
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
