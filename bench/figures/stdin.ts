/** (c) stdin pipe throughput: 16 MiB through `cat`, vs a memcpy and a bare SAB ring. */
import type { ExecutionMode, Kernel } from '../../src/kernel';
import { benchKernel, drain } from '../lib/modules';
import { ringBetweenWorkers, ringThroughPage } from '../lib/bare-ring';
import { median, round, row, samples, type FigureResult } from '../lib/report';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
const RUNS = 3;

/** Deterministic, incompressible-looking bytes (xorshift). */
export function payload(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

function sameBytes(chunks: Uint8Array[], expected: Uint8Array): boolean {
  let at = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) if (c[i] !== expected[at + i]) return false;
    at += c.length;
  }
  return at === expected.length;
}

/** ms for `data` in through stdin and out through stdout, and how many reads the page made. */
export async function catRun(kernel: Kernel, data: Uint8Array, verify: boolean, mode: ExecutionMode = 'worker'): Promise<{ ms: number; reads: number }> {
  const t0 = performance.now();
  const p = await kernel.spawn('cat', { stdin: data, mode });
  const [out, code] = await Promise.all([drain(p.stdout, verify), p.exit]);
  const ms = performance.now() - t0;
  if (code !== 0 || out.bytes !== data.length) throw new Error(`cat: code ${code}, ${out.bytes} of ${data.length} bytes`);
  if (verify && !sameBytes(out.chunks, data)) throw new Error('cat: the bytes out differ from the bytes in');
  return { ms, reads: out.reads };
}

/** Only stdin: `cat` with its stdout cancelled (the worker discards what it writes). */
async function stdinOnlyRun(kernel: Kernel, data: Uint8Array): Promise<number> {
  const t0 = performance.now();
  const p = await kernel.spawn('cat', { stdin: data });
  await p.stdout.cancel();
  const code = await p.exit;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`cat, stdout cancelled: code ${code}`);
  return ms;
}

/** `cat` of a 16 MiB file given at spawn: the file is handed to the worker, then only stdout flows. */
async function catFileRun(kernel: Kernel, data: Uint8Array): Promise<{ ms: number; reads: number }> {
  const t0 = performance.now();
  const p = await kernel.spawn('cat', { args: ['/data/in'], preopens: ['/data'], files: { '/data/in': data } });
  const [out, code] = await Promise.all([drain(p.stdout), p.exit]);
  const ms = performance.now() - t0;
  if (code !== 0 || out.bytes !== data.length) throw new Error(`cat file: code ${code}, ${out.bytes} bytes`);
  return { ms, reads: out.reads };
}

/** Uint8Array.prototype.set of the same bytes, on the page. */
function memcpy(data: Uint8Array): number[] {
  const dst = new Uint8Array(data.length);
  dst.set(data);
  const out: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    dst.set(data);
    out.push(performance.now() - t0);
  }
  return out;
}

const mibPerSecond = (ms: number[]): number => SIZE / MiB / (median(ms) / 1000);

export async function stdinFigure(): Promise<FigureResult> {
  const data = payload(SIZE);
  const kernel = await benchKernel('stdin', [['cat', 'cat']]);
  const cat: Array<{ ms: number; reads: number }> = [];
  const stdinOnly: number[] = [];
  const catFile: Array<{ ms: number; reads: number }> = [];
  try {
    await catRun(kernel, data.subarray(0, MiB), true);
    await stdinOnlyRun(kernel, data.subarray(0, MiB));
    await catFileRun(kernel, data.subarray(0, MiB));
    for (let i = 0; i < RUNS; i++) {
      cat.push(await catRun(kernel, data, i === 0));
      stdinOnly.push(await stdinOnlyRun(kernel, data));
      catFile.push(await catFileRun(kernel, data));
    }
  } finally {
    kernel.dispose();
  }
  const copy = memcpy(data);
  await ringBetweenWorkers(SIZE, 64 * 1024);
  const ring: number[] = [];
  for (let i = 0; i < RUNS; i++) ring.push(await ringBetweenWorkers(SIZE, 64 * 1024));
  // The same path as cat's, bare: 256 KiB in (webmk's stdin ring), 1 MiB out (its stdout ring).
  const loop = { inCapacity: 256 * 1024, outCapacity: MiB, chunk: 64 * 1024 };
  await ringThroughPage(data.subarray(0, MiB), { ...loop, verify: true });
  const page: Array<{ ms: number; reads: number }> = [];
  for (let i = 0; i < RUNS; i++) page.push(await ringThroughPage(data, { ...loop, verify: i === 0 }));
  const catMs = cat.map((c) => c.ms);
  const figure = '(c) stdin 16 MiB through cat, read to the end';
  return {
    rows: [
      row({ id: 'c.memcpy', figure, unit: 'MiB/s', better: 'higher', webmk: mibPerSecond(catMs), baseline: 'memcpy: Uint8Array.set of 16 MiB on the page', raw: mibPerSecond(copy), target: { op: '>=', ratio: 0.3 } }),
      row({ id: 'c.page-ring', figure, unit: 'MiB/s', better: 'higher', webmk: mibPerSecond(catMs), baseline: 'bare rings through the page: page -> worker copying 64 KiB pieces -> page (256 KiB in, 1 MiB out, Atomics.waitAsync)', raw: mibPerSecond(page.map((p) => p.ms)), note: 'the same trip with nothing but the rings: the ceiling of in and out through the page' }),
      row({ id: 'c.ring', figure, unit: 'MiB/s', better: 'higher', webmk: mibPerSecond(catMs), baseline: 'bare SAB ring between two workers (1 MiB, 64 KiB chunks)', raw: mibPerSecond(ring), note: 'reference ceiling: no page in the loop' }),
    ],
    breakdown: [
      { id: 'c.stdin-only', what: 'stdin only: 16 MiB into cat whose stdout is cancelled (writes discarded)', value: mibPerSecond(stdinOnly), unit: 'MiB/s' },
      { id: 'c.file', what: 'cat of a 16 MiB file given at spawn (`files`), handing the file over included', value: mibPerSecond(catFile.map((c) => c.ms)), unit: 'MiB/s' },
      { id: 'c.reads', what: 'cat through stdin: stdout reads the page made per run, median', value: median(cat.map((c) => c.reads)), unit: 'reads' },
      { id: 'c.page-ring.reads', what: 'bare rings through the page: reads the page made per run, median', value: median(page.map((p) => p.reads)), unit: 'reads' },
      { id: 'c.read-size', what: 'cat through stdin: mean bytes per stdout read', value: SIZE / median(cat.map((c) => c.reads)), unit: 'bytes' },
    ],
    detail: {
      runsMs: { webmkCat: samples(catMs), webmkStdinOnly: samples(stdinOnly), webmkCatFile: samples(catFile.map((c) => c.ms)), memcpy: samples(copy), sabRing: samples(ring), pageRing: samples(page.map((p) => p.ms)) },
      stdoutReads: { cat: cat.map((c) => c.reads), catFile: catFile.map((c) => c.reads) },
      bytes: SIZE,
      verified: 'byte count every run, bytes on the first cat run',
      memcpyMsMedian: round(median(copy)),
    },
  };
}
