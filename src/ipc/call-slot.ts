/**
 * The call space (ADR 0027): one SharedArrayBuffer every worker process gets, holding a call slot
 * per running service instance, so that a module calls a service module worker to worker, with
 * `Atomics.wait`/`notify` and no page hop, once the kernel has granted that pair a direct path.
 *
 * Layout: a head of 16 Int32 (`EPOCH`: bumped whenever what the kernel granted may have changed;
 * `SERIAL`: the last serial handed to an opened slot), then counters per service name (calls and
 * errors of direct calls, indexed by a number the kernel gives each name), then `CALL_SLOTS` slots
 * of a 64-byte header and a data area. A slot belongs to one start of one service process: the
 * worker host opens it when it starts the process (a fresh serial), ends it when the process ends,
 * and hands slots out again oldest-freed first.
 *
 * Contract of a slot: any number of callers (claims are a compare-and-swap on `STATE`), one
 * server (the service's worker, the only one to move REQUEST -> RUNNING -> DONE), and the page,
 * which only closes, ends, and sweeps for callers that died. Who waits where: callers on `STATE`,
 * the server on `BELL` (rung by callers with a request and by the page with a message).
 */

/** Slots in a call space: live service instances past this many are called through the page. */
export const CALL_SLOTS = 64;
/** Service names the direct-call counters are kept for. */
export const CALL_COUNTERS = 1024;
/** The data area of a slot: the function name and input in, the output (or error) out. */
export const CALL_DATA_BYTES = 192 * 1024;

const HEAD_INTS = 16;
const SLOT_HEAD = 64;
const COUNTERS_AT = HEAD_INTS * 4;
const SLOTS_AT = COUNTERS_AT + CALL_COUNTERS * 8;
const SLOT_BYTES = SLOT_HEAD + CALL_DATA_BYTES;

/** Words of the head. */
export const HEAD = { EPOCH: 0, SERIAL: 1 } as const;

/** Words of a slot's header (Int32 indexes from the slot's start); the deadline is a Float64 at byte 56. */
export const SLOT = {
  STATE: 0,
  /** 0 open, 1 closing (no new claims; what runs finishes), 2 ended (the process is gone). */
  CLOSED: 1,
  SERIAL: 2,
  BELL: 3,
  /** Messages the page sent the server's worker: it leaves its wait to read them. */
  MAIL: 4,
  /** The slot this instance waits on (a call of its own), plus one; 0 none; -1 one only the page knows. */
  WAIT: 5,
  CALLER: 6,
  FN_LEN: 7,
  IN_LEN: 8,
  OUT_LEN: 9,
  COUNTER: 10,
  /** 1 while the server sleeps on `BELL`: a caller rings it with a notify only then (a notify costs a system call). */
  SERVER_ASLEEP: 11,
  /** Callers asleep on `STATE`: the server and a caller done with the slot notify only when some are. */
  CALLERS_ASLEEP: 12,
} as const;
const DEADLINE_BYTE = 56;

/** What a slot is doing (`SLOT.STATE`). */
export const CallState = {
  IDLE: 0,
  CLAIMED: 1,
  REQUEST: 2,
  RUNNING: 3,
  DONE_OK: 4,
  DONE_ERR: 5,
  /** The caller's deadline passed while it ran: the kernel ends the instance. */
  ABANDONED: 6,
  /** The caller ended while it ran: the answer is dropped. */
  ORPHANED: 7,
} as const;

/** A closing value of `SLOT.CLOSED`. */
export const Closed = { OPEN: 0, CLOSING: 1, ENDED: 2 } as const;

/** Allocates a call space (about 12 MiB of address space, touched only where used). */
export function allocateCallSpace(): SharedArrayBuffer {
  const bytes = SLOTS_AT + CALL_SLOTS * SLOT_BYTES;
  // A page that is not cross-origin isolated has no SharedArrayBuffer and runs no process:
  // plain memory stands in, so the kernel still starts and says why nothing runs.
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : (new ArrayBuffer(bytes) as unknown as SharedArrayBuffer);
}

/** A view of a call space, with the operations every side shares. */
export class CallSpace {
  readonly head: Int32Array;
  private readonly counters: Int32Array;
  /** Views per slot, made once: a call makes none (it is on the path a direct call is timed by). */
  private readonly views: Array<{ words: Int32Array; data: Uint8Array; deadline: Float64Array } | undefined> = [];

  constructor(readonly sab: SharedArrayBuffer) {
    this.head = new Int32Array(sab, 0, HEAD_INTS);
    this.counters = new Int32Array(sab, COUNTERS_AT, CALL_COUNTERS * 2);
  }

  private view(i: number): { words: Int32Array; data: Uint8Array; deadline: Float64Array } {
    let v = this.views[i];
    if (v === undefined) {
      const at = SLOTS_AT + i * SLOT_BYTES;
      v = {
        words: new Int32Array(this.sab, at, SLOT_HEAD / 4),
        data: new Uint8Array(this.sab, at + SLOT_HEAD, CALL_DATA_BYTES),
        deadline: new Float64Array(this.sab, at + DEADLINE_BYTE, 1),
      };
      this.views[i] = v;
    }
    return v;
  }

  /** The header words of slot `i`. */
  words(i: number): Int32Array {
    return this.view(i).words;
  }

  /** The data area of slot `i`. */
  data(i: number): Uint8Array {
    return this.view(i).data;
  }

  /** The deadline of the call in slot `i` (ms since the epoch; clocks of two realms agree on it, not on `performance.now`). */
  deadline(i: number): Float64Array {
    return this.view(i).deadline;
  }

  epoch(): number {
    return Atomics.load(this.head, HEAD.EPOCH);
  }

  /** Kernel side: what it granted may have changed, so every direct path is asked for again. */
  bumpEpoch(): void {
    Atomics.add(this.head, HEAD.EPOCH, 1);
  }

  /** Counts one direct call (and whether it failed) for service counter `c`. */
  count(c: number, failed: boolean): void {
    if (c < 0 || c >= CALL_COUNTERS) return;
    Atomics.add(this.counters, c * 2, 1);
    if (failed) Atomics.add(this.counters, c * 2 + 1, 1);
  }

  /** The direct calls and errors counted for service counter `c`. */
  counted(c: number): { calls: number; errors: number } {
    if (c < 0 || c >= CALL_COUNTERS) return { calls: 0, errors: 0 };
    return { calls: Atomics.load(this.counters, c * 2), errors: Atomics.load(this.counters, c * 2 + 1) };
  }

  /** Host side: opens slot `i` for a fresh start of a service; returns its serial. */
  open(i: number): number {
    const w = this.words(i);
    const serial = Atomics.add(this.head, HEAD.SERIAL, 1) + 1;
    Atomics.store(w, SLOT.STATE, CallState.IDLE);
    Atomics.store(w, SLOT.WAIT, 0);
    Atomics.store(w, SLOT.MAIL, 0);
    Atomics.store(w, SLOT.CALLER, 0);
    Atomics.store(w, SLOT.COUNTER, -1);
    Atomics.store(w, SLOT.SERVER_ASLEEP, 0);
    Atomics.store(w, SLOT.CALLERS_ASLEEP, 0);
    Atomics.store(w, SLOT.SERIAL, serial);
    Atomics.store(w, SLOT.CLOSED, Closed.OPEN);
    return serial;
  }

  /** Host side: the process is gone. Waiting callers wake and learn it (a call not begun goes through the page). */
  end(i: number): void {
    const w = this.words(i);
    Atomics.store(w, SLOT.CLOSED, Closed.ENDED);
    Atomics.store(w, SLOT.WAIT, 0);
    Atomics.notify(w, SLOT.STATE);
    Atomics.add(w, SLOT.BELL, 1);
    Atomics.notify(w, SLOT.BELL);
  }

  /** Host side: wakes the server's worker from its wait on the slot, to look at its other words (a request to park). */
  wake(i: number): void {
    const w = this.words(i);
    Atomics.add(w, SLOT.BELL, 1);
    Atomics.notify(w, SLOT.BELL);
  }

  /** Host side: a message is on its way to the server's worker; `post` sends it. */
  mail(i: number, post: () => void): void {
    const w = this.words(i);
    Atomics.add(w, SLOT.MAIL, 1);
    post();
    Atomics.add(w, SLOT.BELL, 1);
    Atomics.notify(w, SLOT.BELL);
  }

  /** Kernel side: no new direct call is claimed; what runs finishes. */
  close(i: number): void {
    const w = this.words(i);
    Atomics.compareExchange(w, SLOT.CLOSED, Closed.OPEN, Closed.CLOSING);
    Atomics.notify(w, SLOT.STATE);
  }

  /** Kernel side: reopens a slot it closed (the instance was not replaced after all). */
  reopen(i: number): void {
    Atomics.compareExchange(this.words(i), SLOT.CLOSED, Closed.CLOSING, Closed.OPEN);
  }

  /** Whether a direct call is under way in slot `i` (claimed, asked, running, or answered and not yet read). */
  busy(i: number): boolean {
    const s = Atomics.load(this.words(i), SLOT.STATE);
    return s !== CallState.IDLE && s !== CallState.ABANDONED && s !== CallState.ORPHANED;
  }

  /** What slot `i` is doing (a `CallState`), and for which caller's pid. */
  state(i: number): { state: number; caller: number } {
    const w = this.words(i);
    return { state: Atomics.load(w, SLOT.STATE), caller: Atomics.load(w, SLOT.CALLER) };
  }

  /** Whether a direct call runs in slot `i` now. */
  running(i: number): boolean {
    return Atomics.load(this.words(i), SLOT.STATE) === CallState.RUNNING;
  }

  /** Kernel side: settles once slot `i` has no direct call under way, or it ended. */
  async drained(i: number): Promise<void> {
    const w = this.words(i);
    for (;;) {
      const s = Atomics.load(w, SLOT.STATE);
      if (Atomics.load(w, SLOT.CLOSED) === Closed.ENDED || !this.busy(i)) return;
      const r = Atomics.waitAsync(w, SLOT.STATE, s, 1000);
      if (r.async) await r.value;
    }
  }

  /**
   * Kernel side: caller `pid` ended. A call of its that was not begun is withdrawn, an answer it
   * did not read is dropped; one still running is orphaned (returns the slots where that happened).
   */
  sweep(pid: number): number[] {
    const orphaned: number[] = [];
    for (let i = 0; i < CALL_SLOTS; i++) {
      const w = this.words(i);
      if (Atomics.load(w, SLOT.CALLER) !== pid) continue;
      for (const from of [CallState.CLAIMED, CallState.REQUEST, CallState.DONE_OK, CallState.DONE_ERR]) {
        if (Atomics.compareExchange(w, SLOT.STATE, from, CallState.IDLE) === from) Atomics.notify(w, SLOT.STATE);
      }
      if (Atomics.compareExchange(w, SLOT.STATE, CallState.RUNNING, CallState.ORPHANED) === CallState.RUNNING) orphaned.push(i);
    }
    return orphaned;
  }

  /** The slot `i`'s instance waits on, plus one; 0 none; -1 one only the kernel knows. */
  waiting(i: number): number {
    return Atomics.load(this.words(i), SLOT.WAIT);
  }

  /** Sets what slot `i`'s instance waits on (`to` as in `waiting`). */
  setWaiting(i: number, to: number): void {
    Atomics.store(this.words(i), SLOT.WAIT, to);
  }

  /** Clears what slot `i` waits on if it is still `was`. */
  clearWaiting(i: number, was: number): void {
    Atomics.compareExchange(this.words(i), SLOT.WAIT, was, 0);
  }

  /** Whether following "waits on" from slot `from` reaches slot `me`: true, false, or undefined when it passes one only the kernel knows. */
  reaches(from: number, me: number): boolean | undefined {
    let node = from;
    for (let steps = 0; steps <= CALL_SLOTS; steps++) {
      if (node === me) return true;
      const w = this.waiting(node);
      if (w === 0) return false;
      if (w < 0 || w > CALL_SLOTS) return undefined;
      node = w - 1;
    }
    return false;
  }
}

/** Host side: hands out slots, oldest-freed first (a slot a dying worker may still touch is the last to be reused). */
export class SlotPool {
  private readonly free: number[] = Array.from({ length: CALL_SLOTS }, (_, i) => i);

  constructor(readonly space: CallSpace) {}

  /** A free slot, opened, with its serial; undefined when every slot is taken. */
  take(): { slot: number; serial: number } | undefined {
    const slot = this.free.shift();
    if (slot === undefined) return undefined;
    return { slot, serial: this.space.open(slot) };
  }

  /** Ends slot `slot` and frees it. */
  release(slot: number): void {
    this.space.end(slot);
    this.free.push(slot);
  }
}
