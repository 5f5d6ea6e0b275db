/**
 * The container frame's workers, each running the process runtime from a blob: URL made in the
 * frame (a sandboxed frame cannot load the app's scripts by URL). A worker whose process ended
 * on its own is kept for that module's next start, as the worker mode's pool does: a few per
 * name, a few in all, for a minute.
 */
const PER_NAME = 2;
const TOTAL = 8;
const IDLE_MS = 60_000;

export class FrameWorkers {
  private readonly idle = new Map<string, Array<{ worker: Worker; timer: ReturnType<typeof setTimeout> }>>();
  private count = 0;

  constructor(private readonly url: string) {}

  /** An idle worker that ran this module before, or a new one named after it. */
  take(name: string): Worker {
    const entry = this.idle.get(name)?.pop();
    if (entry !== undefined) {
      clearTimeout(entry.timer);
      this.count -= 1;
      return entry.worker;
    }
    // Classic: a module worker from a blob: URL fails to load in an opaque-origin frame. The
    // script is a self-contained bundle with no import or export (relay.ts makes it strict).
    return new Worker(this.url, { type: 'classic', name: `webmk: ${name}` });
  }

  /** Keeps a worker whose process ended on its own, or ends it when the pool is full. */
  give(name: string, worker: Worker): void {
    const list = this.idle.get(name) ?? [];
    if (list.length >= PER_NAME || this.count >= TOTAL) {
      worker.terminate();
      return;
    }
    worker.onmessage = null;
    worker.onerror = null;
    const timer = setTimeout(() => {
      const l = this.idle.get(name);
      const i = l?.findIndex((x) => x.worker === worker) ?? -1;
      if (l !== undefined && i >= 0) {
        l.splice(i, 1);
        this.count -= 1;
        worker.terminate();
      }
    }, IDLE_MS);
    list.push({ worker, timer });
    this.idle.set(name, list);
    this.count += 1;
  }
}
