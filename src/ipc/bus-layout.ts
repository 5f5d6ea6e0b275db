/**
 * Where everything lives in the bus arena, and how the arena's memory is obtained.
 *
 * Layout (byte offsets; every word is an Int32 read and written with `Atomics`):
 *
 *   0                  arena header, HEADER_BYTES: `A.version`, `A.high`, the rest reserved
 *   HEADER_BYTES       slot table: BUS_LIMITS.maxSlots slots of SLOT_BYTES each
 *     slot + 0           the `S` words (state, owner, lock, doorbell, head, tail, ...)
 *     slot + PATTERN_AT  the pattern's UTF-8 bytes (up to BUS_LIMITS.maxTopic)
 *   INBOXES_AT         inboxes, 64 KiB-aligned past the table; each slot names its own
 *                      `offset` (4-aligned) and `capacity` (a power of two, in bytes)
 *
 * A frame in an inbox is FRAME_HEADER bytes of four words (size, pid, topicLen, dataLen), then
 * the topic, then the data, padded to 4 bytes (`frameSize`). `head` and `tail` count bytes and
 * only grow (mod 2^32), so `tail - head` is the fill level across wrap-around.
 *
 * Contract:
 * - The slot table has one writer, the page (it checks grants before opening); every context
 *   reads it. Opening or closing bumps `A.version`, which invalidates every cached route;
 *   opening bumps the slot's `gen`, so a route made before a close and reopen misses.
 * - An inbox has many writers, serialised by its `lock` word (a CAS spin lock whose holder is
 *   a pid, or PAGE_TOKEN), and one reader, the subscriber, which takes no lock: writers own
 *   `tail` and `dropped`, the reader owns `head` and `delivered`, both move `count` atomically.
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
  /** Subscriptions one process holds at once (the page has no bound): no module takes the tab's. */
  maxPerProcess: 64,
  /** Default inbox size per subscription (at least 1,024 messages of up to 1 KiB). */
  inboxBytes: 1024 * 1024,
} as const;

/** The page's lock token (pids are positive). */
export const PAGE_TOKEN = 0x7fffffff;
/** The publisher pid of a message that came from another tab. */
export const REMOTE_PID = -1;

/** Bytes of the arena header, before the slot table. */
export const HEADER_BYTES = 64;
/** Bytes of one slot in the table. */
export const SLOT_BYTES = 320;
/** Where a slot's pattern bytes start, from the slot's start. */
export const PATTERN_AT = 64;
/** Bytes of a frame's header words. */
export const FRAME_HEADER = 16;
/** The first byte where inboxes may live. */
export const INBOXES_AT = Math.ceil((HEADER_BYTES + BUS_LIMITS.maxSlots * SLOT_BYTES) / 65536) * 65536;

/** Arena header words (Int32 index from the arena's start). */
export const A = {
  /** Bumped whenever a subscription opens or closes. */
  version: 0,
  /** One past the highest slot ever opened: scans stop there. */
  high: 1,
} as const;

/** Slot words (Int32 index from the slot's start). */
export const S = {
  /** FREE or ACTIVE. */
  state: 0,
  /** The subscriber's pid. */
  owner: 1,
  /** 0, or the token of the writer inside the inbox. */
  lock: 2,
  /** Bumped after every write and on close; the reader sleeps on it. */
  doorbell: 3,
  /** Bytes the reader has taken (mod 2^32). */
  head: 4,
  /** Bytes writers have published (mod 2^32). */
  tail: 5,
  /** Frames queued. */
  count: 6,
  /** Frames refused because the inbox was full (mod 2^32). */
  dropped: 7,
  /** Frames the reader has taken (mod 2^32). */
  delivered: 8,
  /** The inbox's first byte in the arena. */
  offset: 9,
  /** The inbox's size in bytes, a power of two. */
  capacity: 10,
  /** Bytes of the pattern at PATTERN_AT. */
  patternLen: 11,
  /** Nonzero while the reader sleeps on `doorbell` (writers notify only then). */
  waiting: 12,
  /** Bumped on every open, so a stale route cannot reach the slot's next owner. */
  gen: 13,
  /** Nonzero while the page holds the reader still (an update restarts it): it takes no frame. */
  fence: 14,
  /** 1 while the reader is parked in a receive on this slot, holding no message (see `holdReader`). */
  parked: 15,
} as const;

/** Slot state: free to open. */
export const FREE = 0;
/** Slot state: open, its inbox taking frames. */
export const ACTIVE = 1;

/** The Int32 index of word `field` of `slot`. */
export function slotWord(slot: number, field: number): number {
  return (HEADER_BYTES + slot * SLOT_BYTES) / 4 + field;
}

/** Bytes a frame takes in an inbox. */
export function frameSize(topicLen: number, dataLen: number): number {
  return (FRAME_HEADER + topicLen + dataLen + 3) & ~3;
}

/**
 * Creates the arena: growable where the browser allows it, so inboxes are added as needed; it
 * starts with room for `inboxes` default inboxes.
 */
export function allocateBusArena(maxBytes = 1024 * 1024 * 1024, inboxes = 8): SharedArrayBuffer {
  const initial = INBOXES_AT + inboxes * BUS_LIMITS.inboxBytes;
  const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
  try {
    return new Growable(initial, { maxByteLength: maxBytes });
  } catch {
    return new SharedArrayBuffer(Math.min(maxBytes, 64 * 1024 * 1024));
  }
}

/** Grows the arena to hold `end` bytes; false if it is fixed-size or cannot grow that far. */
export function growArena(sab: SharedArrayBuffer, end: number): boolean {
  if (end <= sab.byteLength) return true;
  const grow = (sab as unknown as { grow?: (n: number) => void; growable?: boolean }).grow;
  if (grow === undefined || !(sab as unknown as { growable?: boolean }).growable) return false;
  try {
    grow.call(sab, end);
    return true;
  } catch {
    return false;
  }
}
