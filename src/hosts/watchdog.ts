/**
 * The host's side of a process's watchdog: it samples the process's watchdog words on a timer
 * the browser does not throttle, and reports a process whose host-call count has not moved for
 * `ms` while it was not inside a host call. Every host that can end a process runs one. Sampling every eighth of `ms` reports a stall at
 * most `1.25 x ms` after the module's last host call.
 */
import { sleepUnthrottled, type WatchReader } from '../ipc';

/** Watches while `live()` holds; calls `expire` once, with how long the module went without a call. */
export function watchdog(reader: WatchReader, ms: number, live: () => boolean, expire: (stalledMs: number) => void): void {
  const period = Math.max(5, ms / 8);
  void (async () => {
    let last = reader.sample().calls;
    let since = performance.now();
    while (live()) {
      await sleepUnthrottled(period);
      if (!live()) return;
      const s = reader.sample();
      const now = performance.now();
      if (s.inCall || s.calls !== last) {
        last = s.calls;
        since = now;
      } else if (now - since >= ms) {
        expire(now - since);
        return;
      }
    }
  })();
}
