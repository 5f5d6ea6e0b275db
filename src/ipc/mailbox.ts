/**
 * The bus's shared memory: one arena that every module's worker and the page map, holding a
 * table of subscriptions and each subscription's inbox (a bounded queue of framed messages).
 * A publisher writes straight into every matching inbox and wakes its reader with
 * `Atomics.notify`; nothing passes through the page's event loop.
 *
 * `BusArena` is one context's view; it composes the layout (bus-layout.ts, which also writes
 * down who may write what), the subscription table (bus-slots.ts) and the inboxes
 * (bus-inbox.ts), and keeps this context's route cache.
 */
import { BUS_LIMITS, INBOXES_AT, PAGE_TOKEN, REMOTE_PID, allocateBusArena, frameSize, growArena } from './bus-layout';
import { type SlotRoute, type SlotStats, freeSlot, matchingSlots, openSlot, slotGeneration, slotIsOpen, tableStats, tableVersion } from './bus-slots';
import {
  type Frame,
  type FrameHead,
  anyAlive,
  consumeFrame,
  fenceInbox,
  inboxDoorbell,
  inboxFenced,
  markParked,
  unfenceInbox,
  inboxDropped,
  lockInbox,
  newFrameHead,
  readHead,
  releaseInboxLocks,
  unlockInbox,
  waitInboxDoorbell,
  waitInboxDoorbellAsync,
  wakeInboxReaders,
  writeFrame,
} from './bus-inbox';

export { BUS_LIMITS, PAGE_TOKEN, REMOTE_PID, allocateBusArena, frameSize, type Frame, type SlotStats };

/** A topic's matching slots, valid while the table's version is `version`. */
interface Route {
  version: number;
  slots: SlotRoute;
  topic: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One context's view of the arena. Views track the buffer's length as it grows. */
export class BusArena {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  /** This reader's frame header, reused so reading allocates nothing. */
  private readonly scratch: FrameHead = newFrameHead();
  /** Cached topic → matching slots, valid for one arena version. */
  private routes = new Map<string, Route>();

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
  }

  /** Bumped whenever a subscription opens or closes. */
  version(): number {
    return tableVersion(this.i32);
  }

  // ---- page side: the broker -------------------------------------------------------------

  /** Page: the first byte where inboxes may live. */
  static get inboxesStart(): number {
    return INBOXES_AT;
  }

  /** Page: makes room for `end` bytes; false if the arena cannot grow that far. */
  ensure(end: number): boolean {
    return growArena(this.sab, end);
  }

  /** Page: opens a subscription in a free slot; returns the slot, or -1 when all are taken. */
  open(pattern: string, owner: number, offset: number, capacity: number): number {
    return openSlot(this.i32, this.u8, pattern, owner, offset, capacity);
  }

  /**
   * Page: closes a subscription once no writer is inside it; wakes a reader blocked on it. The
   * page cannot sleep, so it spins for the lock; `alive` lets it take one a dead process held.
   */
  close(slot: number, alive: (pid: number) => boolean = anyAlive): void {
    lockInbox(this.i32, slot, PAGE_TOKEN, false, alive);
    freeSlot(this.i32, slot);
    unlockInbox(this.i32, slot);
    wakeInboxReaders(this.i32, slot);
  }

  /** Wakes the reader of `slot` without a message (it checks whether it is asked to park: ADR 0019). */
  wake(slot: number): void {
    wakeInboxReaders(this.i32, slot);
  }

  /** The open slots `pid` owns. */
  slotsOf(pid: number): number[] {
    return this.stats().flatMap((s) => (s.owner === pid ? [s.slot] : []));
  }

  /** Page: frees every inbox lock a dead process held. */
  releaseLocks(pid: number): void {
    releaseInboxLocks(this.i32, pid);
  }

  /** Counters of every open subscription. */
  stats(): SlotStats[] {
    return tableStats(this.i32, this.u8);
  }

  // ---- any side: publishing --------------------------------------------------------------

  /**
   * Delivers one message to every matching subscription. Returns how many inboxes took it
   * (dropped ones are counted in their slot). `wait` says whether this context may block
   * briefly for a contended lock (workers) or must spin (the page); `alive` lets the page steal
   * a lock from a dead holder.
   */
  publish(topic: string, data: Uint8Array, pid: number, wait: boolean, alive: (pid: number) => boolean = anyAlive): number {
    const route = this.route(topic);
    let delivered = 0;
    for (const [slot, gen] of route.slots) {
      if (writeFrame(this.i32, this.u8, slot, gen, route.topic, data, pid, wait, alive)) delivered++;
    }
    return delivered;
  }

  /**
   * Delivers one message into one subscription only, whatever its pattern: the relay of a realm
   * that cannot share the kernel's arena mirrors each of its subscriptions in a local arena.
   * False when the slot is closed or its inbox full (the drop is counted).
   */
  deliver(slot: number, topic: string, data: Uint8Array, pid: number): boolean {
    return writeFrame(this.i32, this.u8, slot, this.generation(slot), enc.encode(topic), data, pid, false, anyAlive);
  }

  private route(topic: string): Route {
    const version = this.version();
    const cached = this.routes.get(topic);
    if (cached !== undefined && cached.version === version) return cached;
    const t = cached?.topic ?? enc.encode(topic);
    const slots = matchingSlots(this.i32, this.u8, t);
    if (this.routes.size > 1024) this.routes.clear();
    const r = { version, slots, topic: t };
    this.routes.set(topic, r);
    return r;
  }

  // ---- the subscriber: reading its own inbox ---------------------------------------------

  /** True while the slot is open with generation `gen`. */
  isOpen(slot: number, gen: number): boolean {
    return slotIsOpen(this.i32, slot, gen);
  }

  /** The slot's generation: it moves each time the slot opens. */
  generation(slot: number): number {
    return slotGeneration(this.i32, slot);
  }

  /** Messages the slot's inbox refused because it was full. */
  dropped(slot: number): number {
    return inboxDropped(this.i32, slot);
  }

  /** The next message's sizes without taking it, or null when the inbox is empty. */
  peek(slot: number): { pid: number; topicLen: number; dataLen: number } | null {
    const h = this.scratch;
    return readHead(this.i32, slot, h) ? { pid: h.pid, topicLen: h.topicLen, dataLen: h.dataLen } : null;
  }

  /** The next message's payload length, or -1 when the inbox is empty (allocates nothing). */
  nextLength(slot: number): number {
    return readHead(this.i32, slot, this.scratch) ? this.scratch.dataLen : -1;
  }

  /**
   * Takes the next message, copying its payload into `dst` (which must be large enough, see
   * `peek`), and returns its topic bytes and publisher; null when empty.
   */
  take(slot: number, dst: Uint8Array, topicDst?: Uint8Array): { pid: number; topic: Uint8Array; dataLen: number } | null {
    const h = this.scratch;
    if (!readHead(this.i32, slot, h)) return null;
    const topic = topicDst !== undefined && topicDst.length >= h.topicLen ? topicDst.subarray(0, h.topicLen) : new Uint8Array(h.topicLen);
    consumeFrame(this.i32, this.u8, slot, h, topic, dst.subarray(0, h.dataLen));
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
    return inboxDoorbell(this.i32, slot);
  }

  /** Worker: sleeps until the doorbell moves from `seen` or `timeoutMs` passes. */
  waitDoorbell(slot: number, seen: number, timeoutMs: number): void {
    waitInboxDoorbell(this.i32, slot, seen, timeoutMs);
  }

  /** Page: resolves when the doorbell moves from `seen`. */
  waitDoorbellAsync(slot: number, seen: number): Promise<void> {
    return waitInboxDoorbellAsync(this.i32, slot, seen);
  }

  /** Reader: says whether it is parked in a receive on `slot`, holding no message. */
  markParked(slot: number, parked: boolean): void {
    markParked(this.i32, slot, parked);
  }

  /** Reader: true while the page holds it still; it must take nothing then. */
  fenced(slot: number): boolean {
    return inboxFenced(this.i32, slot);
  }

  /** Page: holds the slot's reader still; true if it was parked in a receive there (bus-inbox.ts). */
  fence(slot: number): boolean {
    return fenceInbox(this.i32, slot);
  }

  /** Page: lets the slot's reader go on (`readerEnded`: its process ended, forget that it was parked). */
  unfence(slot: number, readerEnded: boolean): void {
    unfenceInbox(this.i32, slot, readerEnded);
  }
}
