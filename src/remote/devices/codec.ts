/**
 * The encoding of a Link message on a libp2p stream: exactly the set `LinkMessage` allows (JSON
 * values with Uint8Arrays anywhere inside), in a small tagged binary form. Not JSON plus a side
 * table of byte arrays: no key or string could then be mistaken for a byte array, and bytes are
 * copied once, not base64'd. Decoding trusts nothing: every length is checked against what is
 * left, depth is bounded, and object keys are defined as own properties (`__proto__` stays data).
 */
import { KernelError } from '../../common';

const T_NULL = 0;
const T_FALSE = 1;
const T_TRUE = 2;
const T_NUMBER = 3;
const T_STRING = 4;
const T_BYTES = 5;
const T_ARRAY = 6;
const T_OBJECT = 7;

/** Nesting deeper than this is refused both ways (a hostile peer cannot blow the stack). */
export const MAX_DEPTH = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A growable byte buffer. */
class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  u32(n: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, n);
    this.len += 4;
  }

  f64(n: number): void {
    this.reserve(8);
    this.view.setFloat64(this.len, n);
    this.len += 8;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

function bad(message: string): KernelError {
  return new KernelError('ipc/malformed', message);
}

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new KernelError('kernel/bad-argument', `a link message nests deeper than ${MAX_DEPTH}`);
  if (v === null) w.byte(T_NULL);
  else if (v === false) w.byte(T_FALSE);
  else if (v === true) w.byte(T_TRUE);
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new KernelError('kernel/bad-argument', 'a link message holds a number that is not finite');
    w.byte(T_NUMBER);
    w.f64(v);
  } else if (typeof v === 'string') {
    w.byte(T_STRING);
    w.bytes(encoder.encode(v));
  } else if (v instanceof Uint8Array) {
    w.byte(T_BYTES);
    w.bytes(v);
  } else if (Array.isArray(v)) {
    w.byte(T_ARRAY);
    w.u32(v.length);
    for (const item of v as unknown[]) write(w, item, depth + 1);
  } else if (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null)) {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    w.byte(T_OBJECT);
    w.u32(entries.length);
    for (const [key, item] of entries) {
      w.bytes(encoder.encode(key));
      write(w, item, depth + 1);
    }
  } else {
    throw new KernelError('kernel/bad-argument', `a link message cannot carry a ${typeof v} (JSON values and Uint8Arrays only)`);
  }
}

/** Encodes one message; throws `kernel/bad-argument` for what the Link contract does not allow. */
export function encodeMessage(message: unknown): Uint8Array {
  const w = new Writer();
  write(w, message, 0);
  return w.buf.subarray(0, w.len);
}

/** A cursor over bytes that refuses to read past their end. */
class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw bad('a link message ends early');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++] ?? 0;
  }

  u32(): number {
    this.need(4);
    const n = this.view.getUint32(this.pos);
    this.pos += 4;
    return n;
  }

  f64(): number {
    this.need(8);
    const n = this.view.getFloat64(this.pos);
    this.pos += 8;
    return n;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    // A copy: the frame buffer is reused, the message is the receiver's to keep.
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function read(r: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw bad(`a link message nests deeper than ${MAX_DEPTH}`);
  const tag = r.byte();
  switch (tag) {
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_NUMBER: {
      const n = r.f64();
      if (!Number.isFinite(n)) throw bad('a link message holds a number that is not finite');
      return n;
    }
    case T_STRING:
      return decoder.decode(r.bytes());
    case T_BYTES:
      return r.bytes();
    case T_ARRAY: {
      const n = r.u32();
      // Each item takes at least one byte: a count past what is left is a lie, not a reason to allocate.
      r.need(n);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(read(r, depth + 1));
      return out;
    }
    case T_OBJECT: {
      const n = r.u32();
      r.need(n * 5);
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = decoder.decode(r.bytes());
        Object.defineProperty(out, key, { value: read(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      throw bad(`a link message has an unknown tag ${tag}`);
  }
}

/** Decodes one message as `unknown`; throws `ipc/malformed` for bytes that are not one. */
export function decodeMessage(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  let value: unknown;
  try {
    value = read(r, 0);
  } catch (e) {
    if (e instanceof KernelError) throw e;
    throw bad(`a link message is not valid: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (r.pos !== bytes.length) throw bad('a link message has bytes after its end');
  return value;
}
