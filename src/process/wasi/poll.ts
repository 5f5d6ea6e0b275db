/**
 * `poll_oneoff`: clock, fd_read and fd_write subscriptions, any number at once. It sleeps with
 * `Atomics.wait` (on the stdin ring when one is polled, else on a private word), or, where the
 * realm may not block (the page), suspends the module until a timer or the stdin ring wakes it:
 * never spins.
 */
import { wasi, type Fd } from '@bjorn3/browser_wasi_shim';
import { RingReaderFd, RingWriterFd } from './stdio';
import { FileFd } from './vfs-fd';
import { sleepUnthrottled } from '../../ipc';
import { now } from './clock';

const SUBSCRIPTION_SIZE = 48;
const EVENT_SIZE = 32;

interface Sub {
  userdata: bigint;
  type: number;
  /** Absolute monotonic deadline in ms, for clocks. */
  deadline: number;
  fd: number;
}

/**
 * A migratable process's poll is a safe point (ADR 0019): it sleeps on the kernel's park word
 * instead of a private one, and gives up the wait, writing nothing, once asked to park.
 */
export interface PollPark {
  stop(): boolean;
  words: Int32Array;
  index: number;
}

/** What `pollOneoff` returns when it gave up its wait to be parked (never an errno). */
export const POLL_PARKED = -1;

/** Made on first use: a page that is not isolated has no shared memory, and never polls. */
let sleeper: Int32Array | undefined;

/** What a poll waits for when nothing is ready: a deadline, and the stdin ring if it is polled. */
interface Wait {
  ms: number;
  stdin: RingReaderFd | undefined;
}

type Memory = () => ArrayBuffer | SharedArrayBuffer;
type Fds = () => Array<Fd | undefined>;

/** The implementation, given the guest's memory and fd table; blocks the realm while it waits. */
export function pollOneoff(memory: Memory, fds: Fds, inPtr: number, outPtr: number, nsubs: number, neventsPtr: number, park?: PollPark): number {
  const subs = readSubs(memory, inPtr, nsubs);
  if (typeof subs === 'number') return subs;
  for (;;) {
    const r = step(memory, fds, subs, outPtr, neventsPtr);
    if (typeof r === 'number') return r;
    if (park?.stop() === true) return POLL_PARKED;
    if (r.stdin !== undefined) r.stdin.ring.waitReadable(r.ms, park?.stop);
    else if (park !== undefined) Atomics.wait(park.words, park.index, 0, r.ms);
    else Atomics.wait((sleeper ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, r.ms);
  }
}

/** The same, suspending the module instead of blocking (JSPI, on a thread that may not block). */
export async function pollOneoffSuspending(memory: Memory, fds: Fds, inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): Promise<number> {
  const subs = readSubs(memory, inPtr, nsubs);
  if (typeof subs === 'number') return subs;
  for (;;) {
    const r = step(memory, fds, subs, outPtr, neventsPtr);
    if (typeof r === 'number') return r;
    const timer = sleepUnthrottled(r.ms);
    await (r.stdin !== undefined ? Promise.race([timer, r.stdin.ring.readable()]) : timer);
  }
}

/** Writes the events if any subscription is ready; else says how to wait (or EINVAL: nothing ever could be). */
function step(memory: Memory, fds: Fds, subs: Sub[], outPtr: number, neventsPtr: number): number | Wait {
  const ready = subs.filter((s) => isReady(s, fds()[s.fd]));
  if (ready.length > 0) return writeEvents(new DataView(memory()), ready, fds(), outPtr, neventsPtr);
  const ms = Math.max(0, Math.min(...subs.map((s) => s.deadline)) - performance.now());
  const stdin = subs.map((s) => fds()[s.fd]).find((f): f is RingReaderFd => f instanceof RingReaderFd);
  if (stdin === undefined && !Number.isFinite(ms)) return wasi.ERRNO_INVAL;
  return { ms, stdin };
}

function readSubs(memory: Memory, inPtr: number, nsubs: number): Sub[] | number {
  if (nsubs === 0) return wasi.ERRNO_INVAL;
  const view = new DataView(memory());
  const subs: Sub[] = [];
  for (let i = 0; i < nsubs; i++) {
    const at = inPtr + i * SUBSCRIPTION_SIZE;
    const type = view.getUint8(at + 8);
    const sub: Sub = { userdata: view.getBigUint64(at, true), type, deadline: Infinity, fd: -1 };
    if (type === wasi.EVENTTYPE_CLOCK) {
      const clock = view.getUint32(at + 16, true);
      const timeout = view.getBigUint64(at + 24, true);
      const abs = (view.getUint16(at + 40, true) & wasi.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
      const timeoutMs = Number(timeout) / 1e6;
      const current = now(clock);
      if (current === null) return wasi.ERRNO_INVAL;
      sub.deadline = performance.now() + (abs ? timeoutMs - current / 1e6 : timeoutMs);
    } else if (type === wasi.EVENTTYPE_FD_READ || type === wasi.EVENTTYPE_FD_WRITE) {
      sub.fd = view.getUint32(at + 16, true);
    } else {
      return wasi.ERRNO_INVAL;
    }
    subs.push(sub);
  }
  return subs;
}

function isReady(s: Sub, fd: Fd | undefined): boolean {
  if (s.type === wasi.EVENTTYPE_CLOCK) return performance.now() >= s.deadline;
  if (fd === undefined) return true; // reported as EBADF
  if (fd instanceof RingReaderFd) return s.type === wasi.EVENTTYPE_FD_WRITE || fd.ring.available() > 0 || fd.ring.writerClosed;
  if (fd instanceof RingWriterFd) return s.type === wasi.EVENTTYPE_FD_READ || fd.ring.space() > 0 || fd.ring.readerClosed;
  return true; // regular files never block
}

function writeEvents(view: DataView, ready: Sub[], fds: Array<Fd | undefined>, outPtr: number, neventsPtr: number): number {
  ready.forEach((s, i) => {
    const at = outPtr + i * EVENT_SIZE;
    const fd = fds[s.fd];
    const error = s.type !== wasi.EVENTTYPE_CLOCK && fd === undefined ? wasi.ERRNO_BADF : wasi.ERRNO_SUCCESS;
    let nbytes = 0;
    let hangup = false;
    if (fd instanceof RingReaderFd) {
      nbytes = fd.ring.available();
      hangup = nbytes === 0 && fd.ring.writerClosed;
    } else if (fd instanceof RingWriterFd) {
      nbytes = fd.ring.space();
      hangup = fd.ring.readerClosed;
    } else if (fd instanceof FileFd && s.type === wasi.EVENTTYPE_FD_READ) {
      nbytes = Math.max(0, fd.node.length - fd.position); // what is left to read, as Linux says
    }
    view.setBigUint64(at, s.userdata, true);
    view.setUint16(at + 8, error, true);
    view.setUint8(at + 10, s.type);
    view.setBigUint64(at + 16, BigInt(nbytes), true);
    view.setUint16(at + 24, hangup ? wasi.EVENTRWFLAGS_FD_READWRITE_HANGUP : 0, true);
  });
  view.setUint32(neventsPtr, ready.length, true);
  return wasi.ERRNO_SUCCESS;
}
