/**
 * A process's watchdog word pair, shared between its realm and the kernel. The process side
 * marks every host call (`IN_CALL` while inside one, `CALLS` counted on the way out); the kernel
 * samples the pair: a process whose count has not moved for `watchdogMs` while it is not inside a
 * host call is computing without calling the system. Host calls include blocking ones, so a
 * module parked in `fd_read` or a bus receive is healthy, and a heartbeat is any host call.
 *
 * Layout: Int32 [IN_CALL, CALLS]. One writer (the process's realm), one reader (the kernel).
 */
const IN_CALL = 0;
const CALLS = 1;

/** A new watchdog buffer. */
export function allocateWatch(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/** The process side: brackets each host call. */
export class WatchWriter {
  private readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab, 0, 2);
  }

  enter(): void {
    this.w[IN_CALL] = 1;
  }

  leave(): void {
    this.w[IN_CALL] = 0;
    this.w[CALLS] = ((this.w[CALLS] ?? 0) + 1) | 0;
  }
}

/** The kernel side: what the process is doing, sampled without disturbing it. */
export class WatchReader {
  private readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab, 0, 2);
  }

  /** Host calls so far (wraps around), and whether it is inside one now. */
  sample(): { calls: number; inCall: boolean } {
    return { calls: Atomics.load(this.w, CALLS), inCall: Atomics.load(this.w, IN_CALL) === 1 };
  }
}
