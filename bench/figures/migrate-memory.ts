/**
 * migrate, continued (ADR 0028): what a hibernation lets go, as the browser sees it (the
 * renderer's resident memory and the workers' JS heaps through CDP, `window.benchMemory` of
 * bench/lib/cdp-memory.mjs), beside the linear memory captured; and a thousand interactive
 * processes past the address-space wall, each answering in turn (resumed from IndexedDB while
 * the least recently active one is hibernated), beside a line's answer from a process that runs.
 */
import type { Kernel } from '../../src/kernel';
import { median, samples, type Part, type Row, row } from '../lib/report';

/** What `window.benchMemory()` answers (bench/lib/cdp-memory.mjs). */
export interface MemoryProbe {
  pageHeap: number;
  workerHeap: number;
  workers: number;
  rendererRss: number;
  renderers: number;
}

/** The probe run.mjs exposes; undefined when the page runs elsewhere. */
export function memoryProbe(): (() => Promise<MemoryProbe>) | undefined {
  const f = (globalThis as { benchMemory?: () => Promise<MemoryProbe> }).benchMemory;
  return typeof f === 'function' ? f : undefined;
}

const KiB = 1024;
const COUNT = 1000;
const MAX_LIVE = 32;

/** A thousand accums started, then each written to once, in order: ms per answer. */
export async function pastTheWall(kernel: Kernel): Promise<{ rows: Row[]; breakdown: Part[]; detail: Record<string, unknown> }> {
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  const procs: Array<{ pid: number; w: WritableStreamDefaultWriter<Uint8Array>; r: ReadableStreamDefaultReader<Uint8Array>; text: string }> = [];
  const until = async (p: (typeof procs)[number], want: string): Promise<void> => {
    while (!p.text.includes(want)) {
      const { value, done } = await p.r.read();
      if (done) throw new Error(`accum ${p.pid} ended`);
      p.text += dec.decode(value, { stream: true });
    }
  };
  kernel.setAutoHibernate({ maxLive: MAX_LIVE, atWall: true });
  const answers: number[] = [];
  const still: number[] = [];
  let started = 0;
  try {
    const t0 = performance.now();
    for (let i = 0; i < COUNT; i++) {
      const h = await kernel.spawn('accum', {});
      const p = { pid: h.pid, w: h.stdin.getWriter(), r: h.stdout.getReader(), text: '' };
      await until(p, 'ready\n');
      procs.push(p);
    }
    started = performance.now() - t0;
    for (const [i, p] of procs.entries()) {
      const t = performance.now();
      await p.w.write(enc.encode('1\n'));
      await until(p, 'n=1 ');
      answers.push(performance.now() - t);
      // The same process again, running now: an answer without a resume.
      if (i % 10 === 0) {
        const s = performance.now();
        await p.w.write(enc.encode('1\n'));
        await until(p, 'n=2 ');
        still.push(performance.now() - s);
      }
    }
  } finally {
    kernel.setAutoHibernate(null);
    await Promise.all(procs.map((p) => kernel.kill(p.pid)));
  }
  return {
    rows: [
      row({
        id: 'wall.answer',
        figure: `${COUNT} idle accums, at most ${MAX_LIVE} live: line to answer, each resumed in turn`,
        unit: 'ms',
        better: 'lower',
        webmk: median(answers),
        baseline: 'line to answer from one running',
        raw: median(still),
      }),
    ],
    breakdown: [{ id: 'wall.start', what: `${COUNT} accums started one after another, the policy hibernating the least recently active (per start)`, value: started / COUNT, unit: 'ms' }],
    detail: { answers: samples(answers), still: samples(still), startedMs: started },
  };
}

/** The memory figures of one hibernation: measured before (running) and after (hibernated). */
export function memoryRows(
  label: string,
  what: string,
  before: MemoryProbe[],
  after: MemoryProbe[],
  linearBytes: number,
  baseline: MemoryProbe | undefined,
): { rows: Row[]; breakdown: Part[] } {
  const released = (f: (m: MemoryProbe) => number): number => median(before.map((b, i) => f(b) - f(after[i] ?? b)));
  return {
    rows: [
      row({
        id: `released.${label}`,
        figure: `renderer memory released by hibernate (${what})`,
        unit: 'KiB',
        better: 'higher',
        webmk: released((m) => m.rendererRss) / KiB,
        baseline: 'the linear memory captured',
        raw: linearBytes / KiB,
      }),
    ],
    breakdown: [
      { id: `released.${label}.workers`, what: `hibernate (${what}): workers' JS heap released (CDP Runtime.getHeapUsage)`, value: released((m) => m.workerHeap) / KiB, unit: 'KiB' },
      { id: `released.${label}.page`, what: `hibernate (${what}): page's JS heap released (CDP)`, value: released((m) => m.pageHeap) / KiB, unit: 'KiB' },
      // A resumed process holds more than a fresh one (copies of its snapshot on the way, not yet
      // given back to the system): what a hibernated one leaves, against the renderer before it started.
      ...(baseline !== undefined
        ? [{ id: `released.${label}.left`, what: `hibernated (${what}): renderer memory above the renderer before it started`, value: median(after.map((a) => a.rendererRss - baseline.rendererRss)) / KiB, unit: 'KiB' }]
        : []),
      { id: `released.${label}.first`, what: `hibernate (${what}), the first (a process never resumed): renderer memory released`, value: ((before[0]?.rendererRss ?? 0) - (after[0]?.rendererRss ?? 0)) / KiB, unit: 'KiB' },
    ],
  };
}
