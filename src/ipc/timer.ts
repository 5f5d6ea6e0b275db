/**
 * Timers the browser does not throttle: a hidden tab runs main-thread `setTimeout` at most once
 * a second (once a minute after five minutes), but an `Atomics.waitAsync` timeout fires on time.
 * Restart backoff and watchdogs run on these.
 */
let word: Int32Array | undefined;

/** Resolves after `ms` milliseconds, in a hidden tab too (a plain timer where memory cannot be shared). */
export function sleepUnthrottled(ms: number): Promise<void> {
  if (typeof SharedArrayBuffer === 'undefined') return new Promise((ok) => setTimeout(ok, ms));
  word ??= new Int32Array(new SharedArrayBuffer(4));
  const r = Atomics.waitAsync(word, 0, 0, Math.max(0, ms));
  return r.async ? r.value.then(() => undefined) : Promise.resolve();
}

/** A timer that fires after `ms` in a hidden tab too, and can be cancelled (its waiter let go at once). */
export function unthrottledTimer(ms: number): { fired: Promise<void>; cancel(): void } {
  if (typeof SharedArrayBuffer === 'undefined') {
    let t: ReturnType<typeof setTimeout> | undefined;
    return { fired: new Promise((ok) => (t = setTimeout(ok, ms))), cancel: () => clearTimeout(t) };
  }
  const own = new Int32Array(new SharedArrayBuffer(4));
  const r = Atomics.waitAsync(own, 0, 0, Math.max(0, ms));
  if (!r.async) return { fired: Promise.resolve(), cancel: () => {} };
  let cancelled = false;
  // A cancelled timer never fires: its promise stays pending and is dropped with its waiter.
  const fired = r.value.then((how) => (how === 'timed-out' && !cancelled ? undefined : new Promise<void>(() => {})));
  return {
    fired,
    cancel: () => {
      cancelled = true;
      Atomics.store(own, 0, 1);
      Atomics.notify(own, 0);
    },
  };
}
