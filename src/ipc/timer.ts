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
