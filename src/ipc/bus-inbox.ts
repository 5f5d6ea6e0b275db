/**
 * One subscription's inbox in the bus arena: a byte ring of frames with many writers, who take
 * the slot's lock word, and one reader, who takes none (the contract is in bus-layout.ts). Also
 * the inbox's doorbell, which the reader sleeps on, and its drop counter. Free functions over
 * the arena's views, so publishing and taking pay no extra object per frame.
 */
import { A, FRAME_HEADER, PAGE_TOKEN, S, frameSize, slotWord } from './bus-layout';
import { slotIsOpen } from './bus-slots';

/** A message taken from an inbox. */
export interface Frame {
  pid: number;
  topic: string;
  data: Uint8Array;
}

/** Where the next frame lies and what its header says; one per reader, reused. */
export interface FrameHead {
  at: number;
  base: number;
  capacity: number;
  size: number;
  pid: number;
  topicLen: number;
  dataLen: number;
}

/** Answers "every holder is alive", for contexts that cannot tell. */
export const anyAlive: (pid: number) => boolean = () => true;

/** A blank `FrameHead` for a reader to reuse. */
export function newFrameHead(): FrameHead {
  return { at: 0, base: 0, capacity: 0, size: 0, pid: 0, topicLen: 0, dataLen: 0 };
}

/**
 * Takes the slot's inbox lock for `token`. A worker (`canWait`) sleeps briefly on contention;
 * the page cannot sleep, so it spins, and now and then asks `alive` whether the holder died.
 */
export function lockInbox(i32: Int32Array, slot: number, token: number, canWait: boolean, alive: (pid: number) => boolean): void {
  const lockAt = slotWord(slot, S.lock);
  for (let spins = 0; ; spins++) {
    const holder = Atomics.compareExchange(i32, lockAt, 0, token);
    if (holder === 0) return;
    if (spins > 64 && canWait) Atomics.wait(i32, lockAt, holder, 1);
    else if (spins % 4096 === 4095 && holder !== PAGE_TOKEN && !alive(holder)) {
      Atomics.compareExchange(i32, lockAt, holder, 0);
    }
  }
}

/** Page: frees every inbox lock a dead process held. */
export function releaseInboxLocks(i32: Int32Array, pid: number): void {
  const high = Atomics.load(i32, A.high);
  for (let slot = 0; slot < high; slot++) {
    if (Atomics.compareExchange(i32, slotWord(slot, S.lock), pid, 0) === pid) {
      Atomics.notify(i32, slotWord(slot, S.lock));
    }
  }
}

/**
 * Writes one frame into the slot's inbox if the slot is still open with generation `gen`, then
 * rings the doorbell; false when closed or full (a full inbox counts the drop).
 */
export function writeFrame(
  i32: Int32Array,
  u8: Uint8Array,
  slot: number,
  gen: number,
  topic: Uint8Array,
  data: Uint8Array,
  pid: number,
  wait: boolean,
  alive: (pid: number) => boolean,
): boolean {
  const token = pid > 0 ? pid : PAGE_TOKEN;
  lockInbox(i32, slot, token, wait, alive);
  let ok = false;
  try {
    // The slot may have closed, or closed and reopened for someone else, since routing.
    if (!slotIsOpen(i32, slot, gen)) return false;
    const capacity = Atomics.load(i32, slotWord(slot, S.capacity));
    const head = Atomics.load(i32, slotWord(slot, S.head)) >>> 0;
    const tail = Atomics.load(i32, slotWord(slot, S.tail)) >>> 0;
    const size = frameSize(topic.length, data.length);
    if (size > capacity - ((tail - head) >>> 0)) {
      Atomics.add(i32, slotWord(slot, S.dropped), 1);
      return false;
    }
    const base = Atomics.load(i32, slotWord(slot, S.offset));
    // Header words are 4-aligned, so none straddles the inbox's end even when the frame wraps.
    const mask = capacity - 1;
    i32[(base + (tail & mask)) >> 2] = size;
    i32[(base + ((tail + 4) & mask)) >> 2] = pid;
    i32[(base + ((tail + 8) & mask)) >> 2] = topic.length;
    i32[(base + ((tail + 12) & mask)) >> 2] = data.length;
    copyIn(u8, base, capacity, tail + FRAME_HEADER, topic);
    copyIn(u8, base, capacity, tail + FRAME_HEADER + topic.length, data);
    // Publishing `tail` last is what keeps a writer killed mid-copy from leaving half a frame.
    Atomics.store(i32, slotWord(slot, S.tail), (tail + size) | 0);
    Atomics.add(i32, slotWord(slot, S.count), 1);
    ok = true;
  } finally {
    Atomics.store(i32, slotWord(slot, S.lock), 0);
    if (wait) Atomics.notify(i32, slotWord(slot, S.lock), 1);
  }
  Atomics.add(i32, slotWord(slot, S.doorbell), 1);
  if (Atomics.load(i32, slotWord(slot, S.waiting)) !== 0) Atomics.notify(i32, slotWord(slot, S.doorbell));
  return ok;
}

function copyIn(u8: Uint8Array, base: number, capacity: number, pos: number, bytes: Uint8Array): void {
  const at = (pos >>> 0) & (capacity - 1);
  const first = Math.min(bytes.length, capacity - at);
  u8.set(first === bytes.length ? bytes : bytes.subarray(0, first), base + at);
  if (first < bytes.length) u8.set(bytes.subarray(first), base);
}

function copyOut(u8: Uint8Array, base: number, capacity: number, pos: number, dst: Uint8Array): void {
  const at = (pos >>> 0) & (capacity - 1);
  const first = Math.min(dst.length, capacity - at);
  dst.set(u8.subarray(base + at, base + at + first), 0);
  if (first < dst.length) dst.set(u8.subarray(base, base + dst.length - first), first);
}

/** Reader: fills `h` with the next frame's header and place; false when the inbox is empty. */
export function readHead(i32: Int32Array, slot: number, h: FrameHead): boolean {
  const at = Atomics.load(i32, slotWord(slot, S.head)) >>> 0;
  if (at === Atomics.load(i32, slotWord(slot, S.tail)) >>> 0) return false;
  h.at = at;
  h.base = Atomics.load(i32, slotWord(slot, S.offset));
  h.capacity = Atomics.load(i32, slotWord(slot, S.capacity));
  const mask = h.capacity - 1;
  h.size = i32[(h.base + (at & mask)) >> 2] as number;
  h.pid = i32[(h.base + ((at + 4) & mask)) >> 2] as number;
  h.topicLen = i32[(h.base + ((at + 8) & mask)) >> 2] as number;
  h.dataLen = i32[(h.base + ((at + 12) & mask)) >> 2] as number;
  return true;
}

/**
 * Reader: copies the frame `h` describes into `topic` and `data` (each exactly its length),
 * then frees its space; `h` must come from `readHead` on this slot just before.
 */
export function consumeFrame(i32: Int32Array, u8: Uint8Array, slot: number, h: FrameHead, topic: Uint8Array, data: Uint8Array): void {
  copyOut(u8, h.base, h.capacity, h.at + FRAME_HEADER, topic);
  copyOut(u8, h.base, h.capacity, h.at + FRAME_HEADER + h.topicLen, data);
  Atomics.store(i32, slotWord(slot, S.head), (h.at + h.size) | 0);
  Atomics.sub(i32, slotWord(slot, S.count), 1);
  Atomics.add(i32, slotWord(slot, S.delivered), 1);
}

/** Page: releases the lock `lockInbox` took, without waking anyone (the page never waits). */
export function unlockInbox(i32: Int32Array, slot: number): void {
  Atomics.store(i32, slotWord(slot, S.lock), 0);
}

/** Frames the inbox refused because it was full. */
export function inboxDropped(i32: Int32Array, slot: number): number {
  return Atomics.load(i32, slotWord(slot, S.dropped)) >>> 0;
}

/** The doorbell's current value: read it before checking for messages, then wait on it. */
export function inboxDoorbell(i32: Int32Array, slot: number): number {
  return Atomics.load(i32, slotWord(slot, S.doorbell));
}

/** Rings the doorbell and wakes whoever sleeps on it, `waiting` or not: the slot is closing. */
export function wakeInboxReaders(i32: Int32Array, slot: number): void {
  Atomics.add(i32, slotWord(slot, S.doorbell), 1);
  Atomics.notify(i32, slotWord(slot, S.doorbell));
}

/** Worker: sleeps until the doorbell moves from `seen` or `timeoutMs` passes. */
export function waitInboxDoorbell(i32: Int32Array, slot: number, seen: number, timeoutMs: number): void {
  // Writers skip the futex wake unless this flag is set, so it goes up before the wait. It stays
  // up until the slot opens again: a reader that cleared it on waking could clear it under the
  // slot's next reader (a killed worker runs on for a moment, and may wake here after its slot
  // went to someone else), whose wake-ups writers would then skip.
  Atomics.store(i32, slotWord(slot, S.waiting), 1);
  Atomics.wait(i32, slotWord(slot, S.doorbell), seen, timeoutMs);
}

/** Page: resolves when the doorbell moves from `seen`. */
export async function waitInboxDoorbellAsync(i32: Int32Array, slot: number, seen: number): Promise<void> {
  Atomics.store(i32, slotWord(slot, S.waiting), 1);
  const wa = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number) => { async: boolean; value: unknown } }).waitAsync;
  const r = wa(i32, slotWord(slot, S.doorbell), seen);
  if (r.async) await (r.value as Promise<unknown>);
}

/*
 * Holding a reader still, so its process can be ended between two messages (an update restarts
 * it into new code) with nothing taken and not handled. Dekker's handshake over two words, all
 * accesses sequentially consistent: the reader lowers `parked` before it reads `fence`, the page
 * raises `fence` before it reads `parked`, so either the page sees the reader outside its
 * receive, or the reader sees the fence and takes nothing.
 */

/** Reader: says whether it is parked in a receive on this slot, holding no message. */
export function markParked(i32: Int32Array, slot: number, parked: boolean): void {
  Atomics.store(i32, slotWord(slot, S.parked), parked ? 1 : 0);
}

/** Reader: true while the page holds it still (it then takes nothing and waits on the doorbell). */
export function inboxFenced(i32: Int32Array, slot: number): boolean {
  return Atomics.load(i32, slotWord(slot, S.fence)) !== 0;
}

/** Page: raises the fence; true if the reader was parked in a receive on this slot. */
export function fenceInbox(i32: Int32Array, slot: number): boolean {
  Atomics.store(i32, slotWord(slot, S.fence), 1);
  return Atomics.load(i32, slotWord(slot, S.parked)) !== 0;
}

/** Page: lowers the fence (and, for a reader that ended, its parked word) and wakes the reader. */
export function unfenceInbox(i32: Int32Array, slot: number, readerEnded: boolean): void {
  if (readerEnded) Atomics.store(i32, slotWord(slot, S.parked), 0);
  Atomics.store(i32, slotWord(slot, S.fence), 0);
  wakeInboxReaders(i32, slot);
}
