/**
 * A single-producer, single-consumer ring of fixed-size records of Int32 words over a
 * SharedArrayBuffer: the page queues input events, a module's worker takes them without
 * blocking, whether or not its event loop ever turns.
 *
 * Contract: exactly one context pushes and exactly one context pops. Counters only grow
 * (mod 2^32); the capacity (in records) is a power of two, so `write - read` is the fill level
 * across wrap-around. A full ring refuses the record (back-pressure: the producer drops it and
 * the ring counts it); nothing already queued is overwritten. A slot is written before the
 * write counter is published, and read before the read counter is, so neither side sees a
 * half-written record.
 */

/** Header word offsets (Int32 slots). */
const H = {
  /** Records the consumer has taken (mod 2^32). */
  read: 0,
  /** Records the producer has published (mod 2^32). */
  write: 1,
  /** Records refused because the ring was full (mod 2^32). */
  dropped: 2,
  /** Nonzero once the producer closed the ring (no more records will come). */
  closed: 3,
  /** Words per record, fixed at allocation. */
  words: 4,
  /** Capacity in records, fixed at allocation. */
  capacity: 5,
} as const;
const HEADER_WORDS = 8;

/** The shared memory of one ring of `capacity` records of `words` Int32 words each. */
export function allocateEventRing(capacity: number, words: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 2 || capacity > 2 ** 20 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`event ring capacity must be a power of two in [2, 2^20], got ${capacity}`);
  }
  if (!Number.isInteger(words) || words < 1 || words > 64) throw new RangeError(`record size must be 1..64 words, got ${words}`);
  const sab = new SharedArrayBuffer((HEADER_WORDS + capacity * words) * 4);
  const h = new Int32Array(sab, 0, HEADER_WORDS);
  h[H.words] = words;
  h[H.capacity] = capacity;
  return sab;
}

/** One side's view of an event ring; cheap to construct, holds no state beyond the views. */
export class EventRing {
  readonly sab: SharedArrayBuffer;
  /** Capacity in records. */
  readonly capacity: number;
  /** Int32 words per record. */
  readonly words: number;
  private readonly h: Int32Array;
  private readonly slots: Int32Array;

  /** Wraps a buffer from `allocateEventRing`; throws a RangeError on any other buffer. */
  constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength < HEADER_WORDS * 4) throw new RangeError('not an event ring: too small');
    this.sab = sab;
    this.h = new Int32Array(sab, 0, HEADER_WORDS);
    this.words = Atomics.load(this.h, H.words);
    this.capacity = Atomics.load(this.h, H.capacity);
    const ok =
      this.words >= 1 &&
      this.capacity >= 2 &&
      (this.capacity & (this.capacity - 1)) === 0 &&
      sab.byteLength === (HEADER_WORDS + this.capacity * this.words) * 4;
    if (!ok) throw new RangeError('not an event ring: inconsistent header');
    this.slots = new Int32Array(sab, HEADER_WORDS * 4, this.capacity * this.words);
  }

  /** Wraps a buffer that arrived over a wire; null for anything that is not an event ring. */
  static from(x: unknown): EventRing | null {
    if (!(x instanceof SharedArrayBuffer)) return null;
    try {
      return new EventRing(x);
    } catch {
      return null;
    }
  }

  /** Records waiting to be taken. */
  available(): number {
    return (Atomics.load(this.h, H.write) - Atomics.load(this.h, H.read)) >>> 0;
  }

  /** Records refused so far because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.h, H.dropped) >>> 0;
  }

  get closed(): boolean {
    return Atomics.load(this.h, H.closed) !== 0;
  }

  /**
   * Producer: queues one record (its first `words` numbers; missing ones are 0). Returns false,
   * and counts a drop, when the ring is full or closed.
   */
  push(record: ArrayLike<number>): boolean {
    const w = Atomics.load(this.h, H.write) >>> 0;
    const r = Atomics.load(this.h, H.read) >>> 0;
    if (this.closed || ((w - r) >>> 0) >= this.capacity) {
      Atomics.add(this.h, H.dropped, 1);
      return false;
    }
    const at = (w & (this.capacity - 1)) * this.words;
    for (let i = 0; i < this.words; i += 1) this.slots[at + i] = record[i] ?? 0;
    Atomics.store(this.h, H.write, (w + 1) | 0);
    // Wakes a consumer waiting in `whenAvailable` (a relay); costs nothing when none waits.
    Atomics.notify(this.h, H.write);
    return true;
  }

  /**
   * Consumer, async: resolves once a record is waiting or the ring is closed. For a relay that
   * forwards records elsewhere; a module polls instead.
   */
  async whenAvailable(): Promise<void> {
    for (;;) {
      const w = Atomics.load(this.h, H.write);
      if (this.available() > 0 || this.closed) return;
      const r = Atomics.waitAsync(this.h, H.write, w);
      if (r.async) await r.value;
    }
  }

  /**
   * Consumer: takes up to `max` records, calling `each` with a view of each one (valid only
   * during the call). Returns how many it took; never blocks.
   */
  take(max: number, each: (record: Int32Array, index: number) => void): number {
    const r = Atomics.load(this.h, H.read) >>> 0;
    const w = Atomics.load(this.h, H.write) >>> 0;
    const n = Math.min(Math.max(0, Math.floor(max)), (w - r) >>> 0);
    for (let i = 0; i < n; i += 1) {
      const at = (((r + i) >>> 0) & (this.capacity - 1)) * this.words;
      each(this.slots.subarray(at, at + this.words), i);
    }
    if (n > 0) Atomics.store(this.h, H.read, (r + n) | 0);
    return n;
  }

  /** Producer: no more records will come (what is queued can still be taken). */
  close(): void {
    Atomics.store(this.h, H.closed, 1);
    Atomics.notify(this.h, H.write);
  }
}
