/**
 * The two ends of a direct service call (ADR 0027), on a slot of the call space (call-slot.ts):
 * the caller's glue claims the slot, writes the function name and input, rings the server and
 * sleeps on the slot's state; the service's glue, asleep on the slot's bell while it has nothing
 * to do, runs the call and writes the answer. Neither end touches the page.
 */
import { CALL_DATA_BYTES, CallSpace, CallState, Closed, SLOT } from './call-slot';

/** What the kernel hands a caller once it granted it a direct path to a service instance. */
export interface DirectGrant {
  slot: number;
  serial: number;
  /** The call space's epoch when it was granted: a newer one means "ask the kernel again". */
  epoch: number;
  /** The service's deadline for a call that gives none, ms. */
  timeoutMs: number;
  /** Where the service's direct calls are counted. */
  counter: number;
}

/** How a direct call ended. `fallback`: it did not begin; the caller goes through the kernel. */
export type DirectOutcome =
  | { kind: 'ok'; output: Uint8Array }
  | { kind: 'error'; error: unknown }
  | { kind: 'fallback' }
  | { kind: 'loop'; target: number }
  | { kind: 'timeout'; ran: boolean }
  | { kind: 'ended' };

/** Who calls: its pid, its own slot when it is a service instance, the deadline it must keep (ms since the epoch). */
export interface DirectCaller {
  pid: number;
  me: number | undefined;
  until: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const origin = performance.timeOrigin;

/** Now, in ms since the epoch: the one clock the page and every worker agree on. */
export function epochNow(): number {
  return origin + performance.now();
}

/**
 * A caller sleeps on the slot's state while it holds `v` (at most `ms`); it counts itself asleep,
 * so that whoever changes the state knows to notify. (No polling first: on a loaded machine a
 * polling thread takes the core its peer needs to answer; measured, it made calls slower.)
 */
function waitState(w: Int32Array, v: number, ms: number): void {
  Atomics.add(w, SLOT.CALLERS_ASLEEP, 1);
  Atomics.wait(w, SLOT.STATE, v, ms);
  Atomics.sub(w, SLOT.CALLERS_ASLEEP, 1);
}

/** Wakes callers asleep on the slot's state, if any (set the state first: they count themselves before they look). */
function wakeCallers(w: Int32Array): void {
  if (Atomics.load(w, SLOT.CALLERS_ASLEEP) > 0) Atomics.notify(w, SLOT.STATE);
}

/** Rings the server: a notify only when it sleeps (it says so before it last looks at the bell). */
function ring(w: Int32Array): void {
  Atomics.add(w, SLOT.BELL, 1);
  if (Atomics.load(w, SLOT.SERVER_ASLEEP) === 1) Atomics.notify(w, SLOT.BELL);
}


/** Whether `g` still names an open slot of the instance the kernel granted. */
function current(space: CallSpace, w: Int32Array, g: DirectGrant): boolean {
  return space.epoch() === g.epoch && Atomics.load(w, SLOT.SERIAL) === g.serial && Atomics.load(w, SLOT.CLOSED) === Closed.OPEN;
}

/** Caller side: one call of `fn` with `input` through slot `g`; blocks this worker until it ends. */
export function callDirect(space: CallSpace, g: DirectGrant, fn: string, input: Uint8Array, who: DirectCaller): DirectOutcome {
  const w = space.words(g.slot);
  const name = enc.encode(fn);
  if (name.length + input.length > CALL_DATA_BYTES || !current(space, w, g)) return { kind: 'fallback' };
  const deadline = Math.min(epochNow() + g.timeoutMs, who.until);
  const edge = g.slot + 1;
  if (who.me !== undefined) {
    // Set before looking, so that of two calls closing a cycle at once, at least one sees it.
    space.setWaiting(who.me, edge);
    const loop = space.reaches(g.slot, who.me);
    if (loop !== false) {
      space.clearWaiting(who.me, edge);
      return loop === true ? { kind: 'loop', target: g.slot } : { kind: 'fallback' };
    }
  }
  try {
    return exchange(space, w, g, name, input, who.pid, deadline);
  } finally {
    if (who.me !== undefined) space.clearWaiting(who.me, edge);
  }
}

function exchange(space: CallSpace, w: Int32Array, g: DirectGrant, name: Uint8Array, input: Uint8Array, pid: number, deadline: number): DirectOutcome {
  // Claim: one call at a time; the others sleep on the state until it is free or their deadline passes.
  for (;;) {
    if (!current(space, w, g)) return { kind: 'fallback' };
    const s = Atomics.load(w, SLOT.STATE);
    if (s === CallState.IDLE && Atomics.compareExchange(w, SLOT.STATE, CallState.IDLE, CallState.CLAIMED) === CallState.IDLE) break;
    const left = deadline - epochNow();
    if (left <= 0) {
      space.count(g.counter, true);
      return { kind: 'timeout', ran: false };
    }
    waitState(w, s, left);
  }
  if (!current(space, w, g)) {
    release(w, CallState.CLAIMED);
    return { kind: 'fallback' };
  }
  const data = space.data(g.slot);
  data.set(name, 0);
  data.set(input, name.length);
  Atomics.store(w, SLOT.FN_LEN, name.length);
  Atomics.store(w, SLOT.IN_LEN, input.length);
  Atomics.store(w, SLOT.CALLER, pid);
  Atomics.store(w, SLOT.COUNTER, g.counter);
  space.deadline(g.slot)[0] = deadline;
  Atomics.store(w, SLOT.STATE, CallState.REQUEST);
  ring(w);
  for (;;) {
    const s = Atomics.load(w, SLOT.STATE);
    if (s === CallState.DONE_OK || s === CallState.DONE_ERR) {
      const out = data.slice(0, Atomics.load(w, SLOT.OUT_LEN));
      release(w, s);
      return s === CallState.DONE_OK ? { kind: 'ok', output: out } : { kind: 'error', error: parseError(out) };
    }
    if (Atomics.load(w, SLOT.SERIAL) !== g.serial) {
      // Ended and already handed to another start: whether it began is not known; it ended.
      space.count(g.counter, true);
      return { kind: 'ended' };
    }
    if (Atomics.load(w, SLOT.CLOSED) === Closed.ENDED) {
      // Not begun: the kernel queues it for the next instance. Begun: it ended with the instance.
      if (Atomics.compareExchange(w, SLOT.STATE, CallState.REQUEST, CallState.IDLE) === CallState.REQUEST) return { kind: 'fallback' };
      if (Atomics.load(w, SLOT.STATE) === CallState.RUNNING) {
        space.count(g.counter, true);
        return { kind: 'ended' };
      }
    }
    const left = deadline - epochNow();
    if (left <= 0) {
      if (Atomics.compareExchange(w, SLOT.STATE, CallState.REQUEST, CallState.IDLE) === CallState.REQUEST) {
        wakeCallers(w);
        space.count(g.counter, true);
        return { kind: 'timeout', ran: false };
      }
      if (Atomics.compareExchange(w, SLOT.STATE, CallState.RUNNING, CallState.ABANDONED) === CallState.RUNNING) {
        space.count(g.counter, true);
        return { kind: 'timeout', ran: true };
      }
      continue; // answered meanwhile
    }
    waitState(w, s, left);
  }
}

/** Frees the slot for the next caller, if it is still in state `from`. */
function release(w: Int32Array, from: number): void {
  if (Atomics.compareExchange(w, SLOT.STATE, from, CallState.IDLE) === from) wakeCallers(w);
}

function parseError(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(dec.decode(bytes)) as unknown;
  } catch {
    return { code: 'service/error', message: 'the service answered an unreadable error', details: {} };
  }
}

/** What a server runs for one call: the output, or an error's wire form; `until` is the call's deadline. */
export type DirectServe = (fn: string, input: Uint8Array, until: number) => { ok: true; output: Uint8Array } | { ok: false; error: unknown };

/** Why a server left its slot: a message came from the page, the process ended, or the slot did. */
export type ServeStop = 'mail' | 'ended' | 'closed';

/**
 * Service side: serves the direct calls of slot `slot` (opened with `serial`) one after the other,
 * asleep on the bell in between, until the page sends a message (`received` falls behind the
 * slot's mail count), the process ends (`ended`), or the slot is ended.
 */
export function serveSlot(space: CallSpace, slot: number, serial: number, serve: DirectServe, received: () => number, ended: () => boolean): ServeStop {
  const w = space.words(slot);
  const data = space.data(slot);
  // The last function's name, as bytes and text: the same one is usually called again.
  let lastName = new Uint8Array(0);
  let lastFn = '';
  for (;;) {
    const bell = Atomics.load(w, SLOT.BELL);
    if (ended()) return 'ended';
    if (Atomics.load(w, SLOT.SERIAL) !== serial || Atomics.load(w, SLOT.CLOSED) === Closed.ENDED) return 'closed';
    if (Atomics.load(w, SLOT.MAIL) !== received()) return 'mail';
    if (Atomics.compareExchange(w, SLOT.STATE, CallState.REQUEST, CallState.RUNNING) === CallState.REQUEST) {
      const fnLen = Atomics.load(w, SLOT.FN_LEN);
      const name = data.subarray(0, fnLen);
      if (fnLen !== lastName.length || !name.every((x, i) => x === lastName[i])) {
        // TextDecoder refuses views of shared memory: the name is copied out first.
        lastName = name.slice();
        lastFn = dec.decode(lastName);
      }
      const fn = lastFn;
      const input = data.slice(fnLen, fnLen + Atomics.load(w, SLOT.IN_LEN));
      const counter = Atomics.load(w, SLOT.COUNTER);
      const out = serve(fn, input, space.deadline(slot)[0] ?? Infinity);
      answer(space, w, data, out, counter);
      continue;
    }
    Atomics.store(w, SLOT.SERVER_ASLEEP, 1);
    if (Atomics.load(w, SLOT.BELL) === bell) Atomics.wait(w, SLOT.BELL, bell);
    Atomics.store(w, SLOT.SERVER_ASLEEP, 0);
  }
}

/** Writes the answer, unless the caller gave up or ended meanwhile (then the slot is free again). */
function answer(space: CallSpace, w: Int32Array, data: Uint8Array, out: ReturnType<DirectServe>, counter: number): void {
  let bytes = out.ok ? out.output : enc.encode(JSON.stringify(out.error));
  let ok = out.ok;
  if (bytes.length > CALL_DATA_BYTES) {
    ok = false;
    bytes = enc.encode(JSON.stringify({ code: 'ipc/too-large', message: 'the answer is too large', details: {} }));
  }
  if (Atomics.load(w, SLOT.STATE) === CallState.RUNNING) {
    data.set(bytes, 0);
    Atomics.store(w, SLOT.OUT_LEN, bytes.length);
  }
  const done = ok ? CallState.DONE_OK : CallState.DONE_ERR;
  if (Atomics.compareExchange(w, SLOT.STATE, CallState.RUNNING, done) === CallState.RUNNING) {
    space.count(counter, !ok);
  } else if (Atomics.compareExchange(w, SLOT.STATE, CallState.ORPHANED, CallState.IDLE) === CallState.ORPHANED) {
    // Its caller ended: nobody reads the answer, and the slot is free again. (An abandoned call
    // was counted by its caller, and the kernel ends this instance.)
    space.count(counter, !ok);
  }
  wakeCallers(w);
}
