/**
 * Service calls: `kernel.call` round trip of a tiny function (the plugin fixture's `echo` of 16
 * bytes) from the page, vs a postMessage round trip to a raw worker that answers each message
 * (a MessagePort echo: the least a call into a worker can cost), alternated call by call. Breakdown: a nested call, page ->
 * plugin -> plugin-b (`relay`), and calls per second with 64 calls in flight. The peer, the Extism
 * JS SDK calling the same C PDK plugin, is extism-peer.ts (and with a host function,
 * extism-hostfn.ts); the same round trip to a service in the
 * iframe and inpage modes, service-modes.ts.
 */
import { createKernel } from '../../src/kernel';
import { fixtureBytes } from '../lib/modules';
import { median, quantile, row, samples, type FigureResult } from '../lib/report';
import { moduleCallRows } from './module-calls';
import { extismPeerRows } from './extism-peer';
import { extismHostRows } from './extism-hostfn';
import { serviceModeRows } from './service-modes';
import { rawEcho } from '../lib/raw';

const WARMUP = 50;
const RUNS = 500;

export async function servicesFigure(): Promise<FigureResult> {
  const kernel = createKernel({ dbName: `bench-services-${Date.now()}` });
  await kernel.ready;
  await kernel.install(await fixtureBytes('plugin'), { name: 'plugin', grant: 'all' });
  await kernel.install(await fixtureBytes('plugin-b'), { name: 'plugin-b', grant: 'all' });
  const input = new Uint8Array(16).fill(7);
  const webmk: number[] = [];
  const raw: number[] = [];
  const nested: number[] = [];
  let perSecond = 0;
  const echo = rawEcho();
  let m2m: Awaited<ReturnType<typeof moduleCallRows>> | undefined;
  let peer: Awaited<ReturnType<typeof extismPeerRows>> | undefined;
  let hostfn: Awaited<ReturnType<typeof extismHostRows>> | undefined;
  let modes: Awaited<ReturnType<typeof serviceModeRows>> | undefined;
  try {
    // Alternated, so both meet the same load.
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const t0 = performance.now();
      const out = await kernel.call('plugin', 'echo', input);
      const ms = performance.now() - t0;
      if (out.length !== 16) throw new Error(`echo gave ${out.length} bytes`);
      const r = await echo.once();
      if (i >= WARMUP) {
        webmk.push(ms);
        raw.push(r);
      }
    }
    await kernel.call('plugin-b', 'echo', input);
    for (let i = 0; i < 10 + 200; i++) {
      const t0 = performance.now();
      const out = new TextDecoder().decode(await kernel.call('plugin', 'relay', 'plugin-b echo 0123456789abcdef'));
      const ms = performance.now() - t0;
      if (out !== '0123456789abcdef') throw new Error(`relay gave "${out}"`);
      if (i >= 10) nested.push(ms);
    }
    const N = 5000;
    const t0 = performance.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < N) {
        next++;
        await kernel.call('plugin', 'echo', input);
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
    perSecond = N / ((performance.now() - t0) / 1000);
    m2m = await moduleCallRows(kernel);
    peer = await extismPeerRows(kernel);
    hostfn = await extismHostRows(kernel);
    modes = await serviceModeRows(kernel);
  } finally {
    echo.close();
    kernel.dispose();
  }
  const baseline = 'postMessage round trip to a raw worker (MessagePort echo, 16 bytes)';
  return {
    rows: [
      row({ id: 'svc.p50', figure: 'kernel.call round trip of a tiny function, page -> service, p50', unit: 'ms', better: 'lower', webmk: median(webmk), baseline, raw: median(raw), note: 'echo of 16 bytes (Extism ABI)' }),
      row({ id: 'svc.p99', figure: 'kernel.call round trip of a tiny function, page -> service, p99', unit: 'ms', better: 'lower', webmk: quantile(webmk, 0.99), baseline, raw: quantile(raw, 0.99) }),
      ...(peer?.rows ?? []),
      ...(hostfn?.rows ?? []),
      ...(m2m?.rows ?? []),
    ],
    breakdown: [
      { id: 'svc.nested.p50', what: 'page -> plugin -> plugin-b (webmk_call) -> back, p50', value: median(nested), unit: 'ms' },
      { id: 'svc.rate', what: 'kernel.call echo calls per second, 64 in flight, one service', value: perSecond, unit: 'calls/s' },
      ...(peer?.breakdown ?? []),
      ...(m2m?.breakdown ?? []),
      ...(modes?.breakdown ?? []),
    ],
    detail: { webmk: samples(webmk), raw: samples(raw), nested: samples(nested), ...m2m?.detail, ...peer?.detail, ...hostfn?.detail, ...modes?.detail },
  };
}
