/**
 * The bus arena's subscription table: opening and freeing slots, their generations, and which
 * open slots a topic reaches. Only the page writes the table; any context reads it (see the
 * contract in bus-layout.ts). Free functions over the arena's views, so callers pay no extra
 * object per call.
 */
import { A, ACTIVE, BUS_LIMITS, FREE, HEADER_BYTES, PATTERN_AT, S, SLOT_BYTES, slotWord } from './bus-layout';

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

/** The open slots a topic reaches, each with the generation it had when matched. */
export type SlotRoute = Array<[slot: number, gen: number]>;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** True when `topic` (bytes) matches `pattern` (bytes): exact, `prefix/*`, or `*`. */
export function matches(pattern: Uint8Array, topic: Uint8Array): boolean {
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

/** The table's version: it moves whenever a subscription opens or closes. */
export function tableVersion(i32: Int32Array): number {
  return Atomics.load(i32, A.version);
}

/** Page: opens a subscription in a free slot with an empty inbox; the slot, or -1 if none is free. */
export function openSlot(i32: Int32Array, u8: Uint8Array, pattern: string, owner: number, offset: number, capacity: number): number {
  const p = enc.encode(pattern);
  for (let slot = 0; slot < BUS_LIMITS.maxSlots; slot++) {
    if (Atomics.load(i32, slotWord(slot, S.state)) !== FREE) continue;
    const at = HEADER_BYTES + slot * SLOT_BYTES;
    u8.set(p, at + PATTERN_AT);
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
      [S.fence, 0],
      [S.parked, 0],
    ] as const) {
      Atomics.store(i32, slotWord(slot, f), v);
    }
    // The new generation is in place before the slot reads as ACTIVE, so no router can pair
    // the old generation with the new subscription.
    Atomics.add(i32, slotWord(slot, S.gen), 1);
    Atomics.store(i32, slotWord(slot, S.state), ACTIVE);
    if (slot + 1 > Atomics.load(i32, A.high)) Atomics.store(i32, A.high, slot + 1);
    Atomics.add(i32, A.version, 1);
    return slot;
  }
  return -1;
}

/** Page: marks a slot free; the caller holds its inbox lock, so no writer is inside. */
export function freeSlot(i32: Int32Array, slot: number): void {
  Atomics.store(i32, slotWord(slot, S.state), FREE);
  Atomics.add(i32, A.version, 1);
}

/** True while the slot is open with generation `gen`. */
export function slotIsOpen(i32: Int32Array, slot: number, gen: number): boolean {
  return Atomics.load(i32, slotWord(slot, S.state)) === ACTIVE && Atomics.load(i32, slotWord(slot, S.gen)) === gen;
}

/** The slot's generation: it moves each time the slot opens. */
export function slotGeneration(i32: Int32Array, slot: number): number {
  return Atomics.load(i32, slotWord(slot, S.gen));
}

/** Every open slot whose pattern matches `topic` (bytes). */
export function matchingSlots(i32: Int32Array, u8: Uint8Array, topic: Uint8Array): SlotRoute {
  const slots: SlotRoute = [];
  const high = Atomics.load(i32, A.high);
  for (let slot = 0; slot < high; slot++) {
    if (Atomics.load(i32, slotWord(slot, S.state)) !== ACTIVE) continue;
    const at = HEADER_BYTES + slot * SLOT_BYTES + PATTERN_AT;
    const len = Atomics.load(i32, slotWord(slot, S.patternLen));
    if (matches(u8.subarray(at, at + len), topic)) slots.push([slot, Atomics.load(i32, slotWord(slot, S.gen))]);
  }
  return slots;
}

/** Counters of every open subscription. */
export function tableStats(i32: Int32Array, u8: Uint8Array): SlotStats[] {
  const out: SlotStats[] = [];
  const high = Atomics.load(i32, A.high);
  for (let slot = 0; slot < high; slot++) {
    if (Atomics.load(i32, slotWord(slot, S.state)) !== ACTIVE) continue;
    const at = HEADER_BYTES + slot * SLOT_BYTES + PATTERN_AT;
    out.push({
      slot,
      owner: Atomics.load(i32, slotWord(slot, S.owner)),
      pattern: dec.decode(u8.slice(at, at + Atomics.load(i32, slotWord(slot, S.patternLen)))),
      queued: Atomics.load(i32, slotWord(slot, S.count)),
      queuedBytes: (Atomics.load(i32, slotWord(slot, S.tail)) - Atomics.load(i32, slotWord(slot, S.head))) >>> 0,
      capacity: Atomics.load(i32, slotWord(slot, S.capacity)),
      delivered: Atomics.load(i32, slotWord(slot, S.delivered)) >>> 0,
      dropped: Atomics.load(i32, slotWord(slot, S.dropped)) >>> 0,
    });
  }
  return out;
}
