import { describe, expect, it } from 'vitest';
import { BootGate } from '../../src/hosts/worker/boot-gate';
import { Pacer } from '../../src/kernel/pacer';

/** Spins the CPU for `ms` (work that costs the task its budget). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('pacer', () => {
  it('runs work in the same task while the budget lasts, the rest in later tasks, in order', async () => {
    const pacer = new Pacer(10);
    const order: number[] = [];
    /** Which stretch of synchronous code (one task's run) each piece of work ran in. */
    let stretch: number | undefined;
    let stretches = 0;
    const tasks: number[] = [];
    const done = Array.from({ length: 12 }, (_, i) =>
      pacer.run(() => {
        if (stretch === undefined) {
          stretch = stretches++;
          queueMicrotask(() => (stretch = undefined));
        }
        busy(3);
        order.push(i);
        tasks.push(stretch);
        return i * 2;
      }),
    );
    const ranAtOnce = order.length;
    expect(await Promise.all(done)).toEqual(Array.from({ length: 12 }, (_, i) => i * 2));
    pacer.dispose();
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // The first pieces ran at once, in the caller's task; not all of them did.
    expect(ranAtOnce).toBeGreaterThanOrEqual(1);
    expect(ranAtOnce).toBeLessThan(12);
    expect(tasks.filter((t) => t === 0).length).toBe(ranAtOnce);
    // Never more than a budget's worth (plus the piece that crossed it) in one task.
    const perTask = new Map<number, number>();
    for (const t of tasks) perTask.set(t, (perTask.get(t) ?? 0) + 1);
    for (const n of perTask.values()) expect(n).toBeLessThanOrEqual(4);
  });

  it('passes on what the work throws, and goes on with the next', async () => {
    const pacer = new Pacer(1);
    busy(2);
    const failing = pacer.run(() => {
      throw new Error('no');
    });
    const next = pacer.run(() => 'yes');
    await expect(failing).rejects.toThrow('no');
    await expect(next).resolves.toBe('yes');
    pacer.dispose();
  });
});

describe('boot gate', () => {
  it('lets `limit` boots run at once and the others in order as each finishes', () => {
    const gate = new BootGate(2);
    const started: number[] = [];
    const done: Array<() => void> = [];
    for (let i = 0; i < 5; i++) {
      gate.enter((d) => {
        started.push(i);
        done.push(d);
      });
    }
    expect(started).toEqual([0, 1]);
    expect(gate.counts()).toEqual({ booting: 2, waiting: 3 });
    done[0]?.();
    done[0]?.(); // a second call does nothing
    expect(started).toEqual([0, 1, 2]);
    expect(gate.counts()).toEqual({ booting: 2, waiting: 2 });
    done[1]?.();
    done[2]?.();
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('withdraws a boot that waits, and only one that waits', () => {
    const gate = new BootGate(1);
    let first: (() => void) | undefined;
    const w1 = gate.enter((d) => (first = d));
    const ran: string[] = [];
    const w2 = gate.enter(() => ran.push('second'));
    gate.enter(() => ran.push('third'));
    expect(w1()).toBe(false);
    expect(w2()).toBe(true);
    expect(w2()).toBe(false);
    first?.();
    expect(ran).toEqual(['third']);
  });
});
