/**
 * How responsive the page stays: long tasks (the Long Tasks API reports tasks over 50 ms) and
 * two gap monitors, a setTimeout(0) loop (its idle gap is the 4 ms nesting clamp) and a
 * requestAnimationFrame loop (about 16.7 ms at 60 Hz when idle).
 */

/** What the page went through while watched. */
export interface JankReport {
  /** Longest long task, ms (0: none over 50 ms). */
  longestTask: number;
  longTasks: number;
  /** Longest gap between two setTimeout(0) callbacks, ms. */
  maxTimeoutGap: number;
  /** Longest gap between two animation frames, ms (null: no frames were drawn). */
  maxFrameGap: number | null;
}

/** Starts watching; `stop()` waits a little for late long-task entries, then reports. */
export function watchJank(): { stop(): Promise<JankReport> } {
  const tasks: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push(e.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  let stopped = false;
  let maxTimeoutGap = 0;
  let lastTimeout = performance.now();
  const tick = (): void => {
    const t = performance.now();
    maxTimeoutGap = Math.max(maxTimeoutGap, t - lastTimeout);
    lastTimeout = t;
    if (!stopped) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  let frames = 0;
  let maxFrameGap = 0;
  let lastFrame = 0;
  const frame = (t: number): void => {
    if (frames > 0) maxFrameGap = Math.max(maxFrameGap, t - lastFrame);
    frames++;
    lastFrame = t;
    if (!stopped) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  return {
    async stop() {
      // Long-task entries are delivered after the task; the monitors stay on meanwhile.
      await new Promise((ok) => setTimeout(ok, 150));
      stopped = true;
      for (const e of observer.takeRecords()) tasks.push(e.duration);
      observer.disconnect();
      return {
        longestTask: Math.max(0, ...tasks),
        longTasks: tasks.length,
        maxTimeoutGap,
        maxFrameGap: frames >= 2 ? maxFrameGap : null,
      };
    },
  };
}
