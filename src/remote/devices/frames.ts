/**
 * Frames on a `/webmk/link/1` stream: a 4-byte big-endian length, then a 1-byte kind, then the
 * payload. A libp2p stream delivers bytes in arbitrary chunks (WebRTC cuts them at 16 KiB), so
 * the reader reassembles; a length past the limit ends the link instead of allocating it.
 */
import { KernelError } from '../../common';

/** What a frame carries. */
export const FrameKind = {
  /** A Link message (codec.ts). */
  message: 0,
  /** Liveness, delivery and round trip: the count of messages received so far, timestamps (Ack). */
  ack: 1,
  /** The sender closes the link on purpose: the other side ends it with reason `closed`. */
  bye: 2,
  /** The dialer's first frame: who it is and the pairing secret, if it has one. */
  hello: 3,
  /** The listener's answer to `hello`: accepted or refused (with a KernelError code). */
  welcome: 4,
} as const;

/** One of FrameKind's values. */
export type FrameKindValue = (typeof FrameKind)[keyof typeof FrameKind];

/** The largest frame either side accepts: a message over this is refused by `send`. */
export const MAX_FRAME = 16 * 1024 * 1024;

/** Frames `payload` as `kind`. */
export function frame(kind: FrameKindValue, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length + 1);
  out[4] = kind;
  out.set(payload, 5);
  return out;
}

/**
 * What an ack (and a bye) carries: the sender's received count, and a timestamp exchange for the
 * round trip: its own clock now, the last timestamp it had from the other side, and how long it
 * held that one. Each side only ever compares its own clock with itself.
 */
export interface Ack {
  received: number;
  at: number;
  echo: number;
  held: number;
}

/** An ack frame. */
export function ackFrame(ack: Ack, kind: FrameKindValue = FrameKind.ack): Uint8Array {
  const payload = new Uint8Array(32);
  const v = new DataView(payload.buffer);
  v.setFloat64(0, ack.received);
  v.setFloat64(8, ack.at);
  v.setFloat64(16, ack.echo);
  v.setFloat64(24, ack.held);
  return frame(kind, payload);
}

/** Reads an ack frame's payload; undefined when it is not one. */
export function readAck(payload: Uint8Array): Ack | undefined {
  if (payload.length !== 32) return undefined;
  const v = new DataView(payload.buffer, payload.byteOffset, 32);
  const ack = { received: v.getFloat64(0), at: v.getFloat64(8), echo: v.getFloat64(16), held: v.getFloat64(24) };
  return Object.values(ack).every(Number.isFinite) ? ack : undefined;
}

/** One frame as read: its kind (unchecked: any byte) and payload. */
export interface Frame {
  kind: number;
  payload: Uint8Array;
}

/** Reassembles frames from chunks; `push` returns the frames completed by a chunk. */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;

  /** Takes one chunk; throws `ipc/too-large` or `ipc/malformed` for a length no frame has. */
  push(chunk: Uint8Array): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const out: Frame[] = [];
    for (;;) {
      if (this.#buffered < 4) return out;
      const head = this.#peek(4);
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (len === 0) throw new KernelError('ipc/malformed', 'a link frame has no kind');
      if (len > MAX_FRAME + 1) throw new KernelError('ipc/too-large', `a link frame of ${len} bytes is over the limit`, { limit: MAX_FRAME });
      if (this.#buffered < 4 + len) return out;
      const whole = this.#take(4 + len);
      out.push({ kind: whole[4] ?? -1, payload: whole.subarray(5) });
    }
  }

  /** The first `n` buffered bytes, joined into one array only when they span chunks. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const joined = this.#join();
    return joined.subarray(0, n);
  }

  #take(n: number): Uint8Array {
    const first = this.#join(n);
    const out = first.subarray(0, n);
    const rest = first.subarray(n);
    this.#chunks[0] = rest;
    if (rest.length === 0) this.#chunks.shift();
    this.#buffered -= n;
    return out;
  }

  /** Joins leading chunks until the first holds at least `min` bytes (all of them by default). */
  #join(min = this.#buffered): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= min) return first;
    let size = 0;
    let count = 0;
    while (size < min && count < this.#chunks.length) size += this.#chunks[count++]?.length ?? 0;
    const joined = new Uint8Array(size);
    let at = 0;
    for (const c of this.#chunks.splice(0, count, joined)) {
      joined.set(c, at);
      at += c.length;
    }
    // splice put `joined` in front of what is left.
    return joined;
  }
}
