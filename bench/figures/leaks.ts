/**
 * Memory after many cycles: the page's memory at a baseline, after 1,000 webmk spawn/exit cycles
 * of `hello`, and after 1,000 raw Worker create/run/terminate cycles, each beside the baseline
 * measured just before it. Nothing should stay: what a cycle allocates goes when it ends.
 */
import type { Kernel } from '../../src/kernel';
import { benchKernel, finish, wasmModule } from '../lib/modules';
import { newRawWorker, runRaw } from '../lib/raw';
import { round, row, type FigureResult, type Part } from '../lib/report';

const CYCLES = 1000;
/** Cycles in flight at once, on both sides. */
const IN_FLIGHT = 4;
const MiB = 1024 * 1024;

/** How the page's memory is read, best first. */
type Method = 'measureUserAgentSpecificMemory' | 'performance.memory.usedJSHeapSize';

interface Reading {
  bytes: number;
  method: Method;
}

/**
 * The page's memory: `performance.measureUserAgentSpecificMemory()` (cross-origin isolated pages
 * only; it waits for a garbage collection, so it takes seconds, and counts the page and its
 * workers' JS heaps and the buffers they hold), else the JS heap in use after what GC the page can
 * force (none without `--expose-gc`).
 */
async function measure(): Promise<Reading> {
  const p = performance as Performance & {
    measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
    memory?: { usedJSHeapSize: number };
  };
  if (typeof p.measureUserAgentSpecificMemory === 'function' && globalThis.crossOriginIsolated) {
    return { bytes: (await p.measureUserAgentSpecificMemory()).bytes, method: 'measureUserAgentSpecificMemory' };
  }
  (globalThis as { gc?: () => void }).gc?.();
  return { bytes: p.memory?.usedJSHeapSize ?? NaN, method: 'performance.memory.usedJSHeapSize' };
}

/** Runs `cycle` CYCLES times, IN_FLIGHT at a time. */
async function loop(cycle: () => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CYCLES) {
        next++;
        await cycle();
      }
    }),
  );
}

/** Resolves once every process has ended for good (an event, not a poll). */
function allEnded(kernel: Kernel): Promise<void> {
  return new Promise((ok) => {
    const check = (): void => {
      if (kernel.resources().processes.live > 0) return;
      kernel.removeEventListener('statechange', check);
      ok();
    };
    kernel.addEventListener('statechange', check);
    check();
  });
}

export async function leaksFigure(): Promise<FigureResult> {
  const kernel = await benchKernel('leaks', [['hello', 'hello']]);
  const module = await wasmModule('hello');
  const readings: Record<string, Reading> = {};
  const counts: Record<string, unknown> = {};
  try {
    // The kernel's caches, a warm worker and the raw side's compiled module belong to the baseline.
    await finish(await kernel.spawn('hello'));
    await allEnded(kernel);
    counts.before = kernel.resources();
    readings.before = await measure();
    await loop(async () => {
      const r = await finish(await kernel.spawn('hello'));
      if (r.code !== 0 || !r.stdout.startsWith('hello, world')) throw new Error(`hello ran wrong: ${r.code}`);
    });
    await allEnded(kernel);
    counts.after = kernel.resources();
    readings.webmk = await measure();
    readings.rawBefore = await measure();
    await loop(async () => {
      const w = newRawWorker();
      const r = await runRaw(w, { module, args: ['hello'], env: [], stdout: 'collect' }).finally(() => w.terminate());
      if (r.code !== 0) throw new Error(`a raw hello ran wrong: ${r.code}`);
    });
    readings.raw = await measure();
  } finally {
    kernel.dispose();
  }
  const mib = (r: Reading | undefined): number | null => (r === undefined ? null : round(r.bytes / MiB, 2));
  const method = readings.before?.method ?? 'measureUserAgentSpecificMemory';
  const note = `page memory by ${method}`;
  const rows = [
    row({ id: 'leaks.webmk', figure: `page memory after ${CYCLES} webmk spawn/exit cycles of hello (${IN_FLIGHT} in flight)`, unit: 'MiB', better: 'lower', webmk: mib(readings.webmk), baseline: 'the same page before them (baseline)', raw: mib(readings.before), note }),
    row({ id: 'leaks.raw', figure: `page memory after ${CYCLES} raw Worker create/run/terminate cycles (bare shim, ${IN_FLIGHT} in flight)`, unit: 'MiB', better: 'lower', webmk: mib(readings.raw), baseline: 'the same page before them (baseline); both columns raw', raw: mib(readings.rawBefore), note }),
    row({ id: 'leaks.vs-raw', figure: `page memory after the ${CYCLES} cycles: webmk`, unit: 'MiB', better: 'lower', webmk: mib(readings.webmk), baseline: `after the ${CYCLES} raw Worker cycles`, raw: mib(readings.raw), note }),
  ];
  const after = counts.after as ReturnType<Kernel['resources']> | undefined;
  const breakdown: Part[] =
    after === undefined
      ? []
      : [
          { id: 'leaks.rings', what: 'stdio rings held by the kernel after the cycles', value: after.rings, unit: '' },
          { id: 'leaks.idle', what: 'idle workers in the warm pool after the cycles', value: after.hosts.worker.idleWorkers, unit: '' },
          { id: 'leaks.rows', what: 'exited rows kept in the process table', value: after.processes.exited, unit: '' },
        ];
  return { rows, breakdown, detail: { method, bytes: Object.fromEntries(Object.entries(readings).map(([k, r]) => [k, r.bytes])), counts } };
}
