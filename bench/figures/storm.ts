/** (d) the page while 20 modules of different names start at once, vs 20 raw Workers. */
import type { Kernel } from '../../src/kernel';
import { watchJank, type JankReport } from '../lib/jank';
import { benchKernel, finish, wasmModule } from '../lib/modules';
import { newRawWorker, runRaw } from '../lib/raw';
import { median, round, row, type FigureResult, type Row } from '../lib/report';

const N = 20;
const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));
const TRIALS = 5;

interface Trial {
  jank: JankReport;
  /** ms until all N exited. */
  wall: number;
}

async function webmkTrial(kernel: Kernel, names: string[]): Promise<Trial> {
  const watch = watchJank();
  const t0 = performance.now();
  const runs = await Promise.all(names.map(async (n) => finish(await kernel.spawn(n))));
  const wall = performance.now() - t0;
  if (runs.some((r) => r.code !== 0 || !r.stdout.startsWith('hello, world'))) throw new Error('a storm process ran wrong');
  return { jank: await watch.stop(), wall };
}

async function rawTrial(module: WebAssembly.Module): Promise<Trial> {
  const watch = watchJank();
  const t0 = performance.now();
  const workers = Array.from({ length: N }, () => newRawWorker());
  const runs = await Promise.all(workers.map((w) => runRaw(w, { module, args: ['hello'], env: [], stdout: 'collect' })));
  const wall = performance.now() - t0;
  for (const w of workers) w.terminate();
  if (runs.some((r) => r.code !== 0)) throw new Error('a raw storm worker ran wrong');
  return { jank: await watch.stop(), wall };
}

const pick = (ts: Trial[], f: (t: Trial) => number | null): number | null => {
  const xs = ts.map(f).filter((x): x is number => x !== null);
  return xs.length === 0 ? null : median(xs);
};

export async function stormFigure(): Promise<FigureResult> {
  const names = Array.from({ length: TRIALS }, (_, t) => Array.from({ length: N }, (_, i) => `storm-${t}-${i}`));
  const kernel = await benchKernel('storm', names.flat().map((n): [string, string] => [n, 'hello']));
  const module = await wasmModule('hello');
  const webmk: Trial[] = [];
  const raw: Trial[] = [];
  try {
    for (let t = 0; t < TRIALS; t++) {
      // Alternate which goes first, and let the last trial's workers wind down.
      if (t % 2 === 0) {
        webmk.push(await webmkTrial(kernel, names[t] ?? []));
        await sleep(300);
        raw.push(await rawTrial(module));
      } else {
        raw.push(await rawTrial(module));
        await sleep(300);
        webmk.push(await webmkTrial(kernel, names[t] ?? []));
      }
      await sleep(300);
    }
  } finally {
    kernel.dispose();
  }
  const baseline = `${N} new Workers + bare shim at once`;
  const figure = (what: string): string => `(d) ${N} cold spawns at once: ${what}, median of ${TRIALS}`;
  const rows: Row[] = [
    row({ id: 'd.longtask', figure: figure('longest long task'), unit: 'ms', better: 'lower', webmk: pick(webmk, (t) => t.jank.longestTask), baseline, raw: pick(raw, (t) => t.jank.longestTask), note: '0 = no task over 50 ms' }),
    row({ id: 'd.timeout-gap', figure: figure('max setTimeout(0) gap'), unit: 'ms', better: 'lower', webmk: pick(webmk, (t) => t.jank.maxTimeoutGap), baseline, raw: pick(raw, (t) => t.jank.maxTimeoutGap) }),
    row({ id: 'd.frame-gap', figure: figure('max rAF gap'), unit: 'ms', better: 'lower', webmk: pick(webmk, (t) => t.jank.maxFrameGap), baseline, raw: pick(raw, (t) => t.jank.maxFrameGap) }),
    row({ id: 'd.wall', figure: figure('all exited'), unit: 'ms', better: 'lower', webmk: pick(webmk, (t) => t.wall), baseline, raw: pick(raw, (t) => t.wall) }),
  ];
  const trials = (ts: Trial[]): unknown[] => ts.map((t) => ({ ...t.jank, wall: round(t.wall) }));
  return { rows, breakdown: [], detail: { webmk: trials(webmk), raw: trials(raw) } };
}
