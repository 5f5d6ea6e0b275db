/**
 * Bounds how much of one page task the kernel's start-up work takes. A start costs the page about
 * a millisecond (its rings, a Worker or a pooled one, the start message); a page script that
 * spawns a hundred modules in one task would otherwise stall the page for a hundred. The pacer
 * runs such work at once while the current task has spent less than its budget on it, and queues
 * the rest for later tasks, in order, a budget's worth per task.
 */
export class Pacer {
  /** When the current task's slice began (undefined: no paced work in this task yet). */
  private sliceStart: number | undefined;
  private readonly queue: Array<() => void> = [];
  private readonly channel = new MessageChannel();
  /** A message is on its way: the next task ends the slice and runs what is queued. */
  private scheduled = false;

  constructor(private readonly budgetMs: number) {
    this.channel.port1.onmessage = () => this.nextTask();
  }

  /**
   * Runs `work` now if the task has budget left and nothing is queued before it, else in a later
   * task; settles with what it returns or throws.
   */
  run<T>(work: () => T): Promise<T> {
    if (this.queue.length === 0 && this.budgetLeft()) return settled(work);
    return new Promise<T>((ok, fail) => {
      this.queue.push(() => settled(work).then(ok, fail));
      this.schedule();
    });
  }

  /** Work waiting for a later task. */
  get queued(): number {
    return this.queue.length;
  }

  /** Stops scheduling: queued work never runs. */
  dispose(): void {
    this.queue.length = 0;
    this.channel.port1.close();
  }

  private budgetLeft(): boolean {
    const now = performance.now();
    if (this.sliceStart === undefined) {
      this.sliceStart = now;
      this.schedule();
    }
    return now - this.sliceStart < this.budgetMs;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A message, not setTimeout: nested timeouts are clamped to 4 ms.
    this.channel.port2.postMessage(null);
  }

  private nextTask(): void {
    this.scheduled = false;
    this.sliceStart = undefined;
    while (this.queue.length > 0 && this.budgetLeft()) this.queue.shift()?.();
  }
}

function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (e) {
    return Promise.reject(e);
  }
}
