/** WASI clocks in nanoseconds; null for a clock id WASI does not define. */
import { wasi } from '@bjorn3/browser_wasi_shim';

export function now(clock: number): number | null {
  switch (clock) {
    case wasi.CLOCKID_REALTIME:
      return (performance.timeOrigin + performance.now()) * 1e6;
    case wasi.CLOCKID_MONOTONIC:
    case wasi.CLOCKID_PROCESS_CPUTIME_ID:
    case wasi.CLOCKID_THREAD_CPUTIME_ID:
      return performance.now() * 1e6;
    default:
      return null;
  }
}

/** The resolution we report: cross-origin isolated pages get 5 us timers. */
export function resolution(clock: number): number | null {
  return now(clock) === null ? null : 5_000;
}
