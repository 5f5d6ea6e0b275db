/** (e) kill latency of a module in a busy loop, vs terminating a raw worker in one. */
import type { Kernel } from '../../src/kernel';
import { benchKernel, wasmModule, why } from '../lib/modules';
import { newRawWorker, runRaw } from '../lib/raw';
import { median, quantile, row, samples, type FigureResult } from '../lib/report';

const RUNS = 15;

/** Resolves once `s` has printed `text` (the reader is released, the stream keeps flowing). */
async function waitFor(s: ReadableStream<Uint8Array>, text: string): Promise<void> {
  const reader = s.getReader();
  const dec = new TextDecoder();
  let seen = '';
  while (!seen.includes(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before "${text}"`);
    seen += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
}

/** ms from `p.kill()` to `exit` settled, on a process already spinning. */
async function webmkKill(kernel: Kernel, starts: number[]): Promise<number> {
  const s0 = performance.now();
  const p = await kernel.spawn('spin');
  await waitFor(p.stdout, 'spinning').catch((e: unknown) => {
    throw new Error(`${String(e)} (${why(kernel, p.pid)})`);
  });
  starts.push(performance.now() - s0);
  const t0 = performance.now();
  await p.kill();
  const code = await p.exit;
  const ms = performance.now() - t0;
  if (code === 0) throw new Error('a killed process exited 0');
  return ms;
}

/** ms of `worker.terminate()` on a worker spinning in the bare shim. */
async function rawKill(module: WebAssembly.Module, starts: number[]): Promise<number> {
  const s0 = performance.now();
  const w = newRawWorker();
  await new Promise<void>((ok, fail) => {
    runRaw(w, { module, args: ['spin'], env: [], stdout: 'post' }, () => ok()).catch(fail);
  });
  starts.push(performance.now() - s0);
  const t0 = performance.now();
  w.terminate();
  return performance.now() - t0;
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/**
 * ms from `worker.terminate()` until a wasm loop in that worker stops counting in shared
 * memory: how long a "killed" worker keeps a core busy.
 */
async function stillRunning(): Promise<number> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const count = new Int32Array(memory.buffer, 0, 1);
  const w = new Worker(new URL('../spin-worker.ts', import.meta.url), { type: 'module', name: 'spin' });
  w.postMessage(memory);
  while (Atomics.load(count, 0) < 1_000_000) await sleep(1);
  const t0 = performance.now();
  w.terminate();
  let last = Atomics.load(count, 0);
  let changed = t0;
  for (;;) {
    await sleep(1);
    const now = performance.now();
    const v = Atomics.load(count, 0);
    if (v !== last) {
      last = v;
      changed = now;
    } else if (now - changed > 250 || now - t0 > 10_000) {
      return changed - t0;
    }
  }
}

export async function killFigure(): Promise<FigureResult> {
  const kernel = await benchKernel('kill', [['spin', 'spin']]);
  const module = await wasmModule('spin');
  const webmk: number[] = [];
  const raw: number[] = [];
  const webmkStarts: number[] = [];
  const rawStarts: number[] = [];
  try {
    await webmkKill(kernel, []);
    await rawKill(module, []);
    for (let i = 0; i < RUNS; i++) {
      webmk.push(await webmkKill(kernel, webmkStarts));
      raw.push(await rawKill(module, rawStarts));
    }
  } finally {
    kernel.dispose();
  }
  const afterTerminate: number[] = [];
  for (let i = 0; i < 3; i++) afterTerminate.push(await stillRunning());
  const baseline = 'worker.terminate() call on a spinning bare-shim worker';
  return {
    rows: [
      row({ id: 'e.p50', figure: '(e) kill of a spinning module, p50', unit: 'ms', better: 'lower', webmk: median(webmk), baseline, raw: median(raw), note: 'webmk: p.kill() to exit settled' }),
      row({ id: 'e.cpu', figure: '(e) a terminated spinning wasm worker keeps running, median of 3', unit: 'ms', better: 'lower', webmk: null, baseline: 'terminate() to the last increment of a shared-memory counter', raw: median(afterTerminate), note: 'webmk kill() is worker.terminate(), so the same holds for a killed module' }),
      row({ id: 'e.p95', figure: '(e) kill of a spinning module, p95', unit: 'ms', better: 'lower', webmk: quantile(webmk, 0.95), baseline, raw: quantile(raw, 0.95) }),
    ],
    breakdown: [],
    detail: { webmk: samples(webmk), raw: samples(raw), stillRunningAfterTerminate: samples(afterTerminate), spawnToSpinning: { webmk: samples(webmkStarts), raw: samples(rawStarts) } },
  };
}
