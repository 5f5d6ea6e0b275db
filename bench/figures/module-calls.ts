/**
 * Module -> module call round trip: the callbench fixture calls the plugin's `echo` (16 bytes)
 * through `webmk_call` many times in a row and reports its own mean (its worker blocks on each
 * call; the first goes through the page, the others straight to the plugin's worker, ADR 0027);
 * the raw baseline is two workers
 * handing a turn back and forth with Atomics.wait/notify. Batches alternate so both meet the same
 * load; each sample is one batch's mean. A third batch, in the breakdown, runs the call-slot
 * protocol of a direct call (ADR 0027) alone between two bare workers, echoing in JS.
 */
import type { Kernel } from '../../src/kernel';
import { fixtureBytes } from '../lib/modules';
import { median, row, type Part, type Row } from '../lib/report';
import { allocateCallSpace } from '../../src/ipc';

const BATCHES = 7;
const CALLS = 300;

/** One batch of raw Atomics round trips between two fresh workers, µs per trip. */
async function atomicsBatch(n: number): Promise<number> {
  const sab = new SharedArrayBuffer(4);
  // Each `new URL` inline in its `new Worker`: that is how the bundler finds worker entries.
  const pong = new Worker(new URL('../atomics-worker.ts', import.meta.url), { type: 'module', name: 'raw pong' });
  const ping = new Worker(new URL('../atomics-worker.ts', import.meta.url), { type: 'module', name: 'raw ping' });
  try {
    await new Promise<void>((ok) => {
      pong.onmessage = () => ok();
      pong.postMessage({ role: 'pong', sab, n });
    });
    return await new Promise<number>((ok) => {
      ping.onmessage = (e: MessageEvent<{ usPerTrip: number }>) => ok(e.data.usPerTrip);
      ping.postMessage({ role: 'ping', sab, n });
    });
  } finally {
    ping.terminate();
    pong.terminate();
  }
}

/** One batch of calls through a call slot between two bare workers (the protocol alone), µs per call. */
async function slotBatch(n: number): Promise<number> {
  const sab = allocateCallSpace();
  const server = new Worker(new URL('../slot-worker.ts', import.meta.url), { type: 'module', name: 'slot server' });
  const caller = new Worker(new URL('../slot-worker.ts', import.meta.url), { type: 'module', name: 'slot caller' });
  try {
    const at = await new Promise<{ slot: number; serial: number }>((ok) => {
      server.onmessage = (e: MessageEvent<{ slot: number; serial: number }>) => ok(e.data);
      server.postMessage({ role: 'server', sab, n });
    });
    return await new Promise<number>((ok) => {
      caller.onmessage = (e: MessageEvent<{ usPerCall: number }>) => ok(e.data.usPerCall);
      caller.postMessage({ role: 'caller', sab, n, ...at });
    });
  } finally {
    caller.terminate();
    server.terminate();
  }
}

/** One batch of webmk_call round trips from the callbench module to the plugin, µs per call. */
async function moduleBatch(kernel: Kernel, n: number): Promise<number> {
  const p = await kernel.spawn('callbench', { args: ['plugin', 'echo', String(n)] });
  await p.stdin.close();
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exit]);
  const m = /us_per_call ([\d.]+)/.exec(out);
  if (code !== 0 || m === null) throw new Error(`callbench: exit ${code}, "${out.trim()}"`);
  return Number(m[1]);
}

/** The row and breakdown of the module -> module figure (the plugin must be installed). */
export async function moduleCallRows(kernel: Kernel): Promise<{ rows: Row[]; breakdown: Part[]; detail: Record<string, number[]> }> {
  await kernel.install(await fixtureBytes('callbench'), { name: 'callbench', grant: 'all' });
  await moduleBatch(kernel, 20);
  await atomicsBatch(100);
  const webmk: number[] = [];
  const raw: number[] = [];
  const slot: number[] = [];
  for (let i = 0; i < BATCHES; i++) {
    webmk.push(await moduleBatch(kernel, CALLS));
    raw.push(await atomicsBatch(CALLS));
    slot.push(await slotBatch(CALLS));
  }
  return {
    rows: [
      row({
        id: 'svc.m2m',
        figure: 'module -> module call round trip (webmk_call, echo of 16 bytes), mean of a batch, median of batches',
        unit: 'µs',
        better: 'lower',
        webmk: median(webmk),
        baseline: 'Atomics wait/notify round trip between two workers',
        raw: median(raw),
        target: { op: '<=', ratio: 2 },
        note: `${BATCHES} batches of ${CALLS} calls`,
      }),
    ],
    breakdown: [
      { id: 'svc.m2m.slot', what: 'the call-slot protocol alone (ADR 0027), JS echo between two bare workers, mean of a batch, median of batches', value: median(slot), unit: 'µs' },
    ],
    detail: { m2mWebmk: webmk, m2mRaw: raw, m2mSlot: slot },
  };
}
