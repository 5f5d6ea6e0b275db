/** (b) stdout throughput: `lines 200000` through webmk's ring vs a postMessage per write. */
import type { Kernel } from '../../src/kernel';
import { benchKernel, drain, wasmModule } from '../lib/modules';
import { newRawWorker, runRaw } from '../lib/raw';
import { median, row, samples, type FigureResult } from '../lib/report';

const LINES = 200_000;
const RUNS = 3;
/** The baseline takes seconds per run (a message per line): fewer runs. */
const RAW_RUNS = 2;

/** Bytes `lines N` prints: "line i\n" for i in 1..N. */
function expectedBytes(n: number): number {
  let total = 0;
  for (let i = 1; i <= n; i++) total += 6 + String(i).length;
  return total;
}

async function webmkRun(kernel: Kernel, n: number, tty: boolean): Promise<number> {
  const t0 = performance.now();
  const p = await kernel.spawn('lines', { args: [String(n)], tty });
  const [out, code] = await Promise.all([drain(p.stdout), p.exit]);
  const ms = performance.now() - t0;
  if (code !== 0 || out.bytes !== expectedBytes(n)) throw new Error(`lines (tty ${tty}): code ${code}, ${out.bytes} bytes`);
  return ms;
}

async function rawRun(w: Worker, module: WebAssembly.Module, n: number): Promise<number> {
  const t0 = performance.now();
  const r = await runRaw(w, { module, args: ['lines', String(n)], env: [], stdout: 'post' });
  const ms = performance.now() - t0;
  if (r.code !== 0 || r.posted !== expectedBytes(n)) throw new Error(`raw lines: code ${r.code}, ${r.posted} bytes`);
  return ms;
}

const perSecond = (ms: number[]): number => LINES / (median(ms) / 1000);

export async function stdoutFigure(): Promise<FigureResult> {
  const kernel = await benchKernel('stdout', [['lines', 'lines']]);
  const pipe: number[] = [];
  const tty: number[] = [];
  try {
    await webmkRun(kernel, 1000, false);
    await webmkRun(kernel, 1000, true);
    for (let i = 0; i < RUNS; i++) {
      pipe.push(await webmkRun(kernel, LINES, false));
      tty.push(await webmkRun(kernel, LINES, true));
    }
  } finally {
    kernel.dispose();
  }
  const module = await wasmModule('lines');
  const w = newRawWorker();
  const raw: number[] = [];
  try {
    await rawRun(w, module, 1000);
    for (let i = 0; i < RAW_RUNS; i++) raw.push(await rawRun(w, module, LINES));
  } finally {
    w.terminate();
  }
  const baseline = 'bare shim, ConsoleStdout posts each write to the page (warm worker)';
  return {
    rows: [
      row({ id: 'b.pipe', figure: `(b) stdout lines/s, ${LINES} lines, tty:false`, unit: 'lines/s', better: 'higher', webmk: perSecond(pipe), baseline, raw: perSecond(raw), target: { op: '>=', ratio: 5 } }),
      row({ id: 'b.tty', figure: `(b) stdout lines/s, ${LINES} lines, tty:true`, unit: 'lines/s', better: 'higher', webmk: perSecond(tty), baseline, raw: perSecond(raw), target: { op: '>=', ratio: 5 } }),
    ],
    breakdown: [],
    detail: { runsMs: { webmkPipe: samples(pipe), webmkTty: samples(tty), raw: samples(raw) }, bytesPerRun: expectedBytes(LINES) },
  };
}
