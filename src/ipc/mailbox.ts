/**
 * The bus's shared memory: one arena that every module's worker and the page map, holding a
 * table of subscriptions and each subscription's inbox (a bounded queue of framed messages).
 * A publisher writes straight into every matching inbox and wakes its reader with
 * `Atomics.notify`; nothing passes through the page's event loop.
 *
 * Contract:
 * - Only the page opens and closes subscriptions (it checks grants); anyone may publish.
 * - An inbox has many writers, serialised by its lock word (holder: a pid, or PAGE_TOKEN), and
 *   one reader (the subscriber), which takes no lock.
 * - A full inbox drops the new message and counts it (`dropped`); nothing is overwritten.
 * - Writers publish a frame by advancing `tail` after copying it, so a writer that dies while
 *   holding the lock leaves no half frame behind; the page then frees the lock.
 */

/** Limits of the bus. */
export const BUS_LIMITS = {
  /** Largest message payload, in bytes. */
  maxMessage: 64 * 1024,
  /** Longest topic, in bytes. */
  maxTopic: 255,
  /** Subscriptions at once, across the tab. */
  maxSlots: 1024,
  /** Default inbox size per subscription (at least 1,024 messages of up to 1 KiB). */
  inboxBytes: 1024 * 1024,
} as const;

/** The page's lock token (pids are positive). */
export const PAGE_TOKEN = 0x7fffffff;
/** The publisher pid of a message that came from another tab. */
export const REMOTE_PID = -1;

const HEADER_BYTES = 64;
const SLOT_BYTES = 320;
const PATTERN_AT = 64;
const FRAME_HEADER = 16;
const INBOXES_AT = Math.ceil((HEADER_BYTES + BUS_LIMITS.maxSlots * SLOT_BYTES) / 65536) * 65536;

/** Arena header words. */
const A = { version: 0, high: 1 } as const;

/** Slot words (Int32 index from the slot's start). */
const S = {
  state: 0,
  owner: 1,
  lock: 2,
  doorbell: 3,
  head: 4,
  tail: 5,
  count: 6,
  dropped: 7,
  delivered: 8,
  offset: 9,
  capacity: 10,
  patternLen: 11,
  waiting: 12,
  gen: 13,
} as const;

const FREE = 0;
const ACTIVE = 1;

/** A message taken from an inbox. */
export interface Frame {
  pid: number;
  topic: string;
  data: Uint8Array;
}

/** Where the next frame lies and what its header says. */
interface FrameHead {
  at: number;
  base: number;
  capacity: number;
  size: number;
  pid: number;
  topicLen: number;
  dataLen: number;
}

/** Counters of one subscription. */
export interface SlotStats {
  slot: number;
  owner: number;
  pattern: string;
  queued: number;
  queuedBytes: number;
  capacity: number;
  delivered: number;
  dropped: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** True when `topic` (bytes) matches `pattern` (bytes): exact, `prefix/*`, or `*`. */
function matches(pattern: Uint8Array, topic: Uint8Array): boolean {
  const n = pattern.length;
  if (n === 1 && pattern[0] === 0x2a) return true;
  if (n >= 2 && pattern[n - 1] === 0x2a && pattern[n - 2] === 0x2f) {
    if (topic.length < n - 1) return false;
    for (let i = 0; i < n - 1; i++) if (pattern[i] !== topic[i]) return false;
    return true;
  }
  if (n !== topic.length) return false;
  for (let i = 0; i < n; i++) if (pattern[i] !== topic[i]) return false;
  return true;
}

/** Creates the arena: growable where the browser allows it, so inboxes are added as needed. */
export function allocateBusArena(maxBytes = 1024 * 1024 * 1024): SharedArrayBuffer {
  const initial = INBOXES_AT + 8 * BUS_LIMITS.inboxBytes;
  const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
  try {
    return new Growable(initial, { maxByteLength: maxBytes });
  } catch {
    return new SharedArrayBuffer(64 * 1024 * 1024);
  }
}

/** One context's view of the arena. Views track the buffer's length as it grows. */
export class BusArena {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  /** Cached topic → matching slots, valid for one arena version. */
  private readonly scratch: FrameHead = { at: 0, base: 0, capacity: 0, size: 0, pid: 0, topicLen: 0, dataLen: 0 };
  private routes = new Map<string, { version: number; slots: Array<[number, number]>; topic: Uint8Array }>();

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
  }

  private w(slot: number, field: number): number {
    return (HEADER_BYTES + slot * SLOT_BYTES) / 4 + field;
  }

  /** Bumped whenever a subscription opens or closes. */
  version(): number {
    return Atomics.load(this.i32, A.version);
  }

  // ---- page side: the broker -------------------------------------------------------------

  /** Page: the first byte where inboxes may live. */
  static get inboxesStart(): number {
    return INBOXES_AT;
  }

  /** Page: makes room for `end` bytes; false if the arena cannot grow that far. */
  ensure(end: number): boolean {
    if (end <= this.sab.byteLength) return true;
    const grow = (this.sab as unknown as { grow?: (n: number) => void; growable?: boolean }).grow;
    if (grow === undefined || !(this.sab as unknown as { growable?: boolean }).growable) return false;
    try {
      grow.call(this.sab, end);
      return true;
    } catch {
      return false;
    }
  }

  /** Page: opens a subscription in a free slot; returns the slot, or -1 when all are taken. */
  open(pattern: string, owner: number, offset: number, capacity: number): number {
    const p = enc.encode(pattern);
    for (let slot = 0; slot < BUS_LIMITS.maxSlots; slot++) {
      if (Atomics.load(this.i32, this.w(slot, S.state)) !== FREE) continue;
      const at = HEADER_BYTES + slot * SLOT_BYTES;
      this.u8.set(p, at + PATTERN_AT);
      for (const [f, v] of [
        [S.owner, owner],
        [S.lock, 0],
        [S.head, 0],
        [S.tail, 0],
        [S.count, 0],
        [S.dropped, 0],
        [S.delivered, 0],
        [S.offset, offset],
        [S.capacity, capacity],
        [S.patternLen, p.length],
        [S.waiting, 0],
      ] as const) {
        Atomics.store(this.i32, this.w(slot, f), v);
      }
      Atomics.add(this.i32, this.w(slot, S.gen), 1);
      Atomics.store(this.i32, this.w(slot, S.state), ACTIVE);
      if (slot + 1 > Atomics.load(this.i32, A.high)) Atomics.store(this.i32, A.high, slot + 1);
      Atomics.add(this.i32, A.version, 1);
      return slot;
    }
    return -1;
  }

  /**
   * Page: closes a subscription once no writer is inside it; wakes a reader blocked on it. The
   * page cannot sleep, so it spins for the lock; `alive` lets it take one a dead process held.
   */
  close(slot: number, alive: (pid: number) => boolean = () => true): void {
    this.lock(slot, PAGE_TOKEN, () => false, alive);
    Atomics.store(this.i32, this.w(slot, S.state), FREE);
    Atomics.add(this.i32, A.version, 1);
    Atomics.store(this.i32, this.w(slot, S.lock), 0);
    Atomics.add(this.i32, this.w(slot, S.doorbell), 1);
    Atomics.notify(this.i32, this.w(slot, S.doorbell));
  }

  /** Page: frees every inbox lock a dead process held. */
  releaseLocks(pid: number): void {
    const high = Atomics.load(this.i32, A.high);
    for (let slot = 0; slot < high; slot++) {
      if (Atomics.compareExchange(this.i32, this.w(slot, S.lock), pid, 0) === pid) {
        Atomics.notify(this.i32, this.w(slot, S.lock));
      }
    }
  }

  /** Counters of every open subscription. */
  stats(): SlotStats[] {
    const out: SlotStats[] = [];
    const high = Atomics.load(this.i32, A.high);
    for (let slot = 0; slot < high; slot++) {
      if (Atomics.load(this.i32, this.w(slot, S.state)) !== ACTIVE) continue;
      const at = HEADER_BYTES + slot * SLOT_BYTES + PATTERN_AT;
      out.push({
        slot,
        owner: Atomics.load(this.i32, this.w(slot, S.owner)),
        pattern: dec.decode(this.u8.slice(at, at + Atomics.load(this.i32, this.w(slot, S.patternLen)))),
        queued: Atomics.load(this.i32, this.w(slot, S.count)),
        queuedBytes: (Atomics.load(this.i32, this.w(slot, S.tail)) - Atomics.load(this.i32, this.w(slot, S.head))) >>> 0,
        capacity: Atomics.load(this.i32, this.w(slot, S.capacity)),
        delivered: Atomics.load(this.i32, this.w(slot, S.delivered)) >>> 0,
        dropped: Atomics.load(this.i32, this.w(slot, S.dropped)) >>> 0,
      });
    }
    return out;
  }

  // ---- any side: publishing --------------------------------------------------------------

  /**
   * Delivers one message to every matching subscription. Returns how many inboxes took it
   * (dropped ones are counted in their slot). `wait` says whether this context may block
   * briefly for a contended lock (workers) or must spin (the page); `alive` lets the page steal
   * a lock from a dead holder.
   */
  publish(topic: string, data: Uint8Array, pid: number, wait: boolean, alive: (pid: number) => boolean = () => true): number {
    const route = this.route(topic);
    let delivered = 0;
    for (const [slot, gen] of route.slots) {
      if (this.deliver(slot, gen, route.topic, data, pid, wait, alive)) delivered++;
    }
    return delivered;
  }

  private route(topic: string): { slots: Array<[number, number]>; topic: Uint8Array } {
    const version = this.version();
    const cached = this.routes.get(topic);
    if (cached !== undefined && cached.version === version) return cached;
    const t = cached?.topic ?? enc.encode(topic);
    const slots: Array<[number, number]> = [];
    const high = Atomics.load(this.i32, A.high);
    for (let slot = 0; slot < high; slot++) {
      if (Atomics.load(this.i32, this.w(slot, S.state)) !== ACTIVE) continue;
      const at = HEADER_BYTES + slot * SLOT_BYTES + PATTERN_AT;
      const len = Atomics.load(this.i32, this.w(slot, S.patternLen));
      if (matches(this.u8.subarray(at, at + len), t)) slots.push([slot, Atomics.load(this.i32, this.w(slot, S.gen))]);
    }
    if (this.routes.size > 1024) this.routes.clear();
    const r = { version, slots, topic: t };
    this.routes.set(topic, r);
    return r;
  }

  private lock(slot: number, token: number, canWait: () => boolean, alive: (pid: number) => boolean = () => true): void {
    const lockAt = this.w(slot, S.lock);
    for (let spins = 0; ; spins++) {
      const holder = Atomics.compareExchange(this.i32, lockAt, 0, token);
      if (holder === 0) return;
      if (spins > 64 && canWait()) Atomics.wait(this.i32, lockAt, holder, 1);
      else if (spins % 4096 === 4095 && holder !== PAGE_TOKEN && !alive(holder)) {
        Atomics.compareExchange(this.i32, lockAt, holder, 0);
      }
    }
  }

  private deliver(slot: number, gen: number, topic: Uint8Array, data: Uint8Array, pid: number, wait: boolean, alive: (pid: number) => boolean): boolean {
    const token = pid > 0 ? pid : PAGE_TOKEN;
    this.lock(slot, token, () => wait, alive);
    let ok = false;
    try {
      // The slot may have closed, or closed and reopened for someone else, since routing.
      if (!this.isOpen(slot, gen)) return false;
      const capacity = Atomics.load(this.i32, this.w(slot, S.capacity));
      const head = Atomics.load(this.i32, this.w(slot, S.head)) >>> 0;
      const tail = Atomics.load(this.i32, this.w(slot, S.tail)) >>> 0;
      const size = frameSize(topic.length, data.length);
      if (size > capacity - ((tail - head) >>> 0)) {
        Atomics.add(this.i32, this.w(slot, S.dropped), 1);
        return false;
      }
      const base = Atomics.load(this.i32, this.w(slot, S.offset));
      // Header words are 4-aligned, so none straddles the inbox's end even when the frame wraps.
      const mask = capacity - 1;
      this.i32[(base + (tail & mask)) >> 2] = size;
      this.i32[(base + ((tail + 4) & mask)) >> 2] = pid;
      this.i32[(base + ((tail + 8) & mask)) >> 2] = topic.length;
      this.i32[(base + ((tail + 12) & mask)) >> 2] = data.length;
      this.copyIn(base, capacity, tail + FRAME_HEADER, topic);
      this.copyIn(base, capacity, tail + FRAME_HEADER + topic.length, data);
      Atomics.store(this.i32, this.w(slot, S.tail), (tail + size) | 0);
      Atomics.add(this.i32, this.w(slot, S.count), 1);
      ok = true;
    } finally {
      Atomics.store(this.i32, this.w(slot, S.lock), 0);
      if (wait) Atomics.notify(this.i32, this.w(slot, S.lock), 1);
    }
    Atomics.add(this.i32, this.w(slot, S.doorbell), 1);
    if (Atomics.load(this.i32, this.w(slot, S.waiting)) !== 0) Atomics.notify(this.i32, this.w(slot, S.doorbell));
    return ok;
  }

  private copyIn(base: number, capacity: number, pos: number, bytes: Uint8Array): void {
    const at = (pos >>> 0) & (capacity - 1);
    const first = Math.min(bytes.length, capacity - at);
    this.u8.set(first === bytes.length ? bytes : bytes.subarray(0, first), base + at);
    if (first < bytes.length) this.u8.set(bytes.subarray(first), base);
  }

  private copyOut(base: number, capacity: number, pos: number, dst: Uint8Array): void {
    const at = (pos >>> 0) & (capacity - 1);
    const first = Math.min(dst.length, capacity - at);
    dst.set(this.u8.subarray(base + at, base + at + first), 0);
    if (first < dst.length) dst.set(this.u8.subarray(base, base + dst.length - first), first);
  }

  // ---- the subscriber: reading its own inbox ---------------------------------------------

  /** True while the slot is open with generation `gen`. */
  isOpen(slot: number, gen: number): boolean {
    return Atomics.load(this.i32, this.w(slot, S.state)) === ACTIVE && Atomics.load(this.i32, this.w(slot, S.gen)) === gen;
  }

  generation(slot: number): number {
    return Atomics.load(this.i32, this.w(slot, S.gen));
  }

  dropped(slot: number): number {
    return Atomics.load(this.i32, this.w(slot, S.dropped)) >>> 0;
  }

  /** The next frame's header and where it lies (in a reused object), or null when empty. */
  private head(slot: number): FrameHead | null {
    const at = Atomics.load(this.i32, this.w(slot, S.head)) >>> 0;
    if (at === Atomics.load(this.i32, this.w(slot, S.tail)) >>> 0) return null;
    const h = this.scratch;
    h.at = at;
    h.base = Atomics.load(this.i32, this.w(slot, S.offset));
    h.capacity = Atomics.load(this.i32, this.w(slot, S.capacity));
    const mask = h.capacity - 1;
    h.size = this.i32[(h.base + (at & mask)) >> 2] as number;
    h.pid = this.i32[(h.base + ((at + 4) & mask)) >> 2] as number;
    h.topicLen = this.i32[(h.base + ((at + 8) & mask)) >> 2] as number;
    h.dataLen = this.i32[(h.base + ((at + 12) & mask)) >> 2] as number;
    return h;
  }

  /** The next message's sizes without taking it, or null when the inbox is empty. */
  peek(slot: number): { pid: number; topicLen: number; dataLen: number } | null {
    const h = this.head(slot);
    return h === null ? null : { pid: h.pid, topicLen: h.topicLen, dataLen: h.dataLen };
  }

  /** The next message's payload length, or -1 when the inbox is empty (allocates nothing). */
  nextLength(slot: number): number {
    return this.head(slot)?.dataLen ?? -1;
  }

  /**
   * Takes the next message, copying its payload into `dst` (which must be large enough, see
   * `peek`), and returns its topic bytes and publisher; null when empty.
   */
  take(slot: number, dst: Uint8Array, topicDst?: Uint8Array): { pid: number; topic: Uint8Array; dataLen: number } | null {
    const h = this.head(slot);
    if (h === null) return null;
    const topic = topicDst !== undefined && topicDst.length >= h.topicLen ? topicDst.subarray(0, h.topicLen) : new Uint8Array(h.topicLen);
    this.copyOut(h.base, h.capacity, h.at + FRAME_HEADER, topic);
    this.copyOut(h.base, h.capacity, h.at + FRAME_HEADER + h.topicLen, dst.subarray(0, h.dataLen));
    Atomics.store(this.i32, this.w(slot, S.head), (h.at + h.size) | 0);
    Atomics.sub(this.i32, this.w(slot, S.count), 1);
    Atomics.add(this.i32, this.w(slot, S.delivered), 1);
    return { pid: h.pid, topic, dataLen: h.dataLen };
  }

  /** Takes the next message as a fresh copy (the page's subscribers). */
  takeFrame(slot: number): Frame | null {
    const next = this.peek(slot);
    if (next === null) return null;
    const data = new Uint8Array(next.dataLen);
    const got = this.take(slot, data);
    return got === null ? null : { pid: got.pid, topic: dec.decode(got.topic), data };
  }

  /** The doorbell's current value: read it before checking for messages, then wait on it. */
  doorbell(slot: number): number {
    return Atomics.load(this.i32, this.w(slot, S.doorbell));
  }

  /** Worker: sleeps until the doorbell moves from `seen` or `timeoutMs` passes. */
  waitDoorbell(slot: number, seen: number, timeoutMs: number): void {
    Atomics.store(this.i32, this.w(slot, S.waiting), 1);
    Atomics.wait(this.i32, this.w(slot, S.doorbell), seen, timeoutMs);
    Atomics.store(this.i32, this.w(slot, S.waiting), 0);
  }

  /** Page: resolves when the doorbell moves from `seen`. */
  async waitDoorbellAsync(slot: number, seen: number): Promise<void> {
    Atomics.store(this.i32, this.w(slot, S.waiting), 1);
    const wa = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number) => { async: boolean; value: unknown } }).waitAsync;
    const r = wa(this.i32, this.w(slot, S.doorbell), seen);
    if (r.async) await (r.value as Promise<unknown>);
  }
}

/** Bytes a frame takes in an inbox. */
export function frameSize(topicLen: number, dataLen: number): number {
  return (FRAME_HEADER + topicLen + dataLen + 3) & ~3;
}
