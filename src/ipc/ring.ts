/**
 * A single-producer, single-consumer byte ring over a SharedArrayBuffer (after ringbuf.js).
 *
 * Contract: exactly one context writes and exactly one context reads. Counters only grow
 * (mod 2^32); `capacity` is a power of two below 2^31, so `write - read` is the fill level even
 * across wrap-around. A full ring is back-pressure: the writer waits, nothing is overwritten.
 * Each side bumps its own signal word on every change so the other side can sleep on it with
 * `Atomics.wait` (workers) or `Atomics.waitAsync` (the page) without missing a wake-up.
 */

/** Header word offsets (Int32 slots). */
const H = {
  /** Total bytes the reader has consumed (mod 2^32). */
  read: 0,
  /** Total bytes the writer has produced (mod 2^32). */
  write: 1,
  /** Bumped by the writer on every write and on close. */
  writerSignal: 2,
  /** Bumped by the reader on every read and on close. */
  readerSignal: 3,
  /** Nonzero once the writer closed (end of stream). */
  writerClosed: 4,
  /** Nonzero once the reader closed (later writes fail: EPIPE or discard). */
  readerClosed: 5,
  /** Nonzero while the reader sleeps on `writerSignal` (the writer notifies only then). */
  readerWaiting: 6,
  /** Nonzero while the writer sleeps on `readerSignal`. */
  writerWaiting: 7,
} as const;
const HEADER_BYTES = 32;
/** Loads of a signal word before a blocking wait sleeps (a few microseconds). */
const SPIN_LOADS = 2000;

/** The shared memory of one ring; pass it to both sides and wrap it with `Ring`. */
export function allocateRing(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 16 || capacity > 2 ** 30 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two in [16, 2^30], got ${capacity}`);
  }
  return new SharedArrayBuffer(HEADER_BYTES + capacity);
}

/** What a blocking call ended with. */
export type WaitResult = 'ok' | 'timed-out' | 'closed' | 'stopped';

/** One side's view of a ring; cheap to construct, holds no state beyond the views. */
export class Ring {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  private readonly h: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.capacity = sab.byteLength - HEADER_BYTES;
    this.h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.data = new Uint8Array(sab, HEADER_BYTES, this.capacity);
    this.mask = this.capacity - 1;
  }

  /** Bytes waiting to be read. */
  available(): number {
    return (Atomics.load(this.h, H.write) - Atomics.load(this.h, H.read)) >>> 0;
  }

  /** Bytes that can be written now. */
  space(): number {
    return this.capacity - this.available();
  }

  get writerClosed(): boolean {
    return Atomics.load(this.h, H.writerClosed) !== 0;
  }

  get readerClosed(): boolean {
    return Atomics.load(this.h, H.readerClosed) !== 0;
  }

  /** Writer: copies as much of `src` as fits; returns the count (0 when full). */
  write(src: Uint8Array): number {
    const w = Atomics.load(this.h, H.write) >>> 0;
    const r = Atomics.load(this.h, H.read) >>> 0;
    const n = Math.min(src.length, this.capacity - ((w - r) >>> 0));
    if (n === 0) return 0;
    const at = w & this.mask;
    const first = Math.min(n, this.capacity - at);
    this.data.set(first === src.length ? src : src.subarray(0, first), at);
    if (n > first) this.data.set(src.subarray(first, n), 0);
    Atomics.store(this.h, H.write, (w + n) | 0);
    this.signal(H.writerSignal, H.readerWaiting);
    return n;
  }

  /** Reader: copies up to `dst.length` bytes into `dst`; returns the count (0 when empty). */
  read(dst: Uint8Array): number {
    const r = Atomics.load(this.h, H.read) >>> 0;
    const w = Atomics.load(this.h, H.write) >>> 0;
    const n = Math.min(dst.length, (w - r) >>> 0);
    if (n === 0) return 0;
    const at = r & this.mask;
    const first = Math.min(n, this.capacity - at);
    dst.set(this.data.subarray(at, at + first), 0);
    if (n > first) dst.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.h, H.read, (r + n) | 0);
    this.signal(H.readerSignal, H.writerWaiting);
    return n;
  }

  /** Reader: a fresh copy of up to `max` available bytes, or null when empty. */
  readChunk(max = this.capacity): Uint8Array | null {
    const n = Math.min(max, this.available());
    if (n === 0) return null;
    const out = new Uint8Array(n);
    this.read(out);
    return out;
  }

  /** Writer: no more data will come. Idempotent. */
  closeWriter(): void {
    Atomics.store(this.h, H.writerClosed, 1);
    this.signal(H.writerSignal, -1);
  }

  /** Reader: nothing more will be read. Idempotent. */
  closeReader(): void {
    Atomics.store(this.h, H.readerClosed, 1);
    this.signal(H.readerSignal, -1);
    // And a relay of this reader's that waits in `readableWhileOpen` stops waiting.
    this.signal(H.writerSignal, -1);
  }

  /**
   * Reader, blocking (workers only): waits until data is available, the writer closed, or
   * `timeoutMs` passes (Infinity: forever).
   */
  waitReadable(timeoutMs = Infinity, stop?: () => boolean): WaitResult {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.h, H.writerSignal);
      // Closed is read before the fill level: once closed, every byte is already in the ring.
      const closed = this.writerClosed;
      if (this.available() > 0) return 'ok';
      if (closed) return 'closed';
      // Asked to give up the wait (a migratable process being parked: see `wakeReader`).
      if (stop?.() === true) return 'stopped';
      const left = deadline - performance.now();
      if (left <= 0) return 'timed-out';
      this.sleep(H.writerSignal, H.readerWaiting, seen, left);
    }
  }

  /**
   * Anyone: wakes a reader sleeping in `waitReadable` without writing, so it checks its `stop`
   * (the kernel parks a migratable process this way). A reader without one sleeps again.
   */
  wakeReader(): void {
    this.signal(H.writerSignal, -1);
  }

  /** Writer, blocking (workers only): waits until there is space or the reader closed. */
  waitWritable(): WaitResult {
    for (;;) {
      const seen = Atomics.load(this.h, H.readerSignal);
      if (this.readerClosed) return 'closed';
      if (this.space() > 0) return 'ok';
      this.sleep(H.readerSignal, H.writerWaiting, seen, Infinity);
    }
  }

  /**
   * Reader, async: as `readable`, and 'closed' once the reader side closed too. For a relay that
   * moves the ring's bytes elsewhere for a process: when the process ends its ring's reader is
   * closed, and the relay stops instead of waiting (and holding the ring) for a writer that may
   * never write or close.
   */
  async readableWhileOpen(): Promise<WaitResult> {
    for (;;) {
      const seen = Atomics.load(this.h, H.writerSignal);
      const closed = this.writerClosed;
      if (this.available() > 0) return 'ok';
      if (closed || this.readerClosed) return 'closed';
      Atomics.store(this.h, H.readerWaiting, 1);
      await waitAsync(this.h, H.writerSignal, seen);
      Atomics.store(this.h, H.readerWaiting, 0);
    }
  }

  /** Reader, async (the page): resolves when data is available or the writer closed. */
  async readable(): Promise<WaitResult> {
    for (;;) {
      const seen = Atomics.load(this.h, H.writerSignal);
      // Closed is read before the fill level: once closed, every byte is already in the ring.
      const closed = this.writerClosed;
      if (this.available() > 0) return 'ok';
      if (closed) return 'closed';
      Atomics.store(this.h, H.readerWaiting, 1);
      await waitAsync(this.h, H.writerSignal, seen);
      Atomics.store(this.h, H.readerWaiting, 0);
    }
  }

  /** Writer, async (the page): resolves when there is space or the reader closed. */
  async writable(): Promise<WaitResult> {
    for (;;) {
      const seen = Atomics.load(this.h, H.readerSignal);
      if (this.readerClosed) return 'closed';
      if (this.space() > 0) return 'ok';
      Atomics.store(this.h, H.writerWaiting, 1);
      await waitAsync(this.h, H.readerSignal, seen);
      Atomics.store(this.h, H.writerWaiting, 0);
    }
  }

  /**
   * Workers only: sleeps on `slot` while it still holds `seen`, flagged in `flag`. It first
   * watches the word for a moment: between two busy workers the other side usually moves within
   * microseconds, and a futex sleep and wake-up costs more than that on every small write.
   */
  private sleep(slot: number, flag: number, seen: number, timeoutMs: number): void {
    for (let i = 0; i < SPIN_LOADS; i++) if (Atomics.load(this.h, slot) !== seen) return;
    Atomics.store(this.h, flag, 1);
    Atomics.wait(this.h, slot, seen, timeoutMs);
    Atomics.store(this.h, flag, 0);
  }

  /**
   * Moves a signal word; wakes the other side only if it sleeps (`flag`; -1: always). The
   * sleeper raises its flag before it checks the word, so no wake-up is lost.
   */
  private signal(slot: number, flag: number): void {
    Atomics.add(this.h, slot, 1);
    if (flag < 0 || Atomics.load(this.h, flag) !== 0) Atomics.notify(this.h, slot);
  }
}

/** `Atomics.waitAsync` where it exists; elsewhere a short poll so the page still never blocks. */
function waitAsync(h: Int32Array, slot: number, seen: number): Promise<unknown> {
  const wa = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: unknown } }).waitAsync;
  if (wa !== undefined) {
    const res = wa(h, slot, seen);
    return res.async ? (res.value as Promise<unknown>) : Promise.resolve(res.value);
  }
  return new Promise((ok) => setTimeout(ok, 1));
}
