/**
 * Bounds how many new Workers boot at once. A Worker's start-up (its thread, its isolate, the
 * process runtime's script, the first instantiate) is tens of milliseconds of CPU; a hundred
 * started together leave the page's own thread one runnable thread among a hundred, and the page
 * stalls for the better part of a second (bench `stall`: the same load made of raw Workers).
 * Booting a few at a time, as many as there are cores, takes about as long in all and leaves the
 * page its share of the machine. A start on a warm pooled worker does not pass through the gate.
 */
export class BootGate {
  private booting = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /**
   * Runs `boot` now if fewer than `limit` boots are under way, else once one has finished, in
   * order. `boot` gets `done`, to call once the worker has booted or failed (more calls do
   * nothing). Returns a function that withdraws a boot still waiting (true if it was).
   */
  enter(boot: (done: () => void) => void): () => boolean {
    const run = (): void => {
      this.booting++;
      let finished = false;
      boot(() => {
        if (finished) return;
        finished = true;
        this.booting--;
        this.waiting.shift()?.();
      });
    };
    if (this.booting < this.limit) {
      run();
      return () => false;
    }
    this.waiting.push(run);
    return () => {
      const i = this.waiting.indexOf(run);
      if (i < 0) return false;
      this.waiting.splice(i, 1);
      return true;
    };
  }

  /** Boots under way and waiting (for tests and the process view). */
  counts(): { booting: number; waiting: number } {
    return { booting: this.booting, waiting: this.waiting.length };
  }
}
