/**
 * The peer of the service-call figure: the Extism JS SDK (`@extism/extism`) running the same
 * plugin (the `vowels` example, built with Extism's C PDK) in a worker, as the SDK offers
 * (`runInWorker`), called from the page like `kernel.call` calls it; and, beside both, the raw
 * postMessage round trip to a worker. The three alternate call by call, so they meet the same
 * load. The SDK on the page's own thread is a breakdown line, not the peer: it blocks the page.
 */
import createPlugin from '@extism/extism';
import type { Kernel } from '../../src/kernel';
import { rawEcho } from '../lib/raw';
import { wasmBytes } from '../lib/modules';
import { median, quantile, row, samples, type Part, type Row } from '../lib/report';

const WARMUP = 50;
const RUNS = 500;

/** Rows comparing `kernel.call` of vowels.count_vowels with the SDK's call of the same plugin. */
export async function extismPeerRows(kernel: Kernel): Promise<{ rows: Row[]; breakdown: Part[]; detail: Record<string, unknown> }> {
  const bytes = await wasmBytes('vowels');
  await kernel.install(bytes, { name: 'vowels' });
  const sdk = await createPlugin({ wasm: [{ data: bytes.slice() }] }, { useWasi: true, runInWorker: true });
  const page = await createPlugin({ wasm: [{ data: bytes.slice() }] }, { useWasi: true });
  const echo = rawEcho();
  const input = new TextEncoder().encode('Extism in webmk!');
  const webmk: number[] = [];
  const peer: number[] = [];
  const raw: number[] = [];
  const onPage: number[] = [];
  try {
    const expect = (text: string, who: string): void => {
      if (!text.startsWith('{"count": 4,')) throw new Error(`${who} gave ${text}`);
    };
    for (let i = 0; i < WARMUP + RUNS; i++) {
      let t0 = performance.now();
      const a = await kernel.call('vowels', 'count_vowels', input);
      const w = performance.now() - t0;
      t0 = performance.now();
      const b = await sdk.call('count_vowels', input);
      const p = performance.now() - t0;
      t0 = performance.now();
      const c = await page.call('count_vowels', input);
      const f = performance.now() - t0;
      const r = await echo.once();
      if (i === 0) {
        expect(new TextDecoder().decode(a), 'kernel.call');
        expect(b?.text() ?? '', 'the SDK (worker)');
        expect(c?.text() ?? '', 'the SDK (page)');
      }
      if (i >= WARMUP) {
        webmk.push(w);
        peer.push(p);
        onPage.push(f);
        raw.push(r);
      }
    }
  } finally {
    echo.close();
    await sdk.close();
    await page.close();
  }
  const baseline = 'postMessage round trip to a raw worker (MessagePort echo, 16 bytes)';
  const peerName = 'Extism JS SDK 1.0.3, runInWorker';
  return {
    rows: [
      row({ id: 'svc.extism.p50', figure: 'an Extism plugin (C PDK) called from the page, count_vowels of 16 bytes, p50', unit: 'ms', better: 'lower', webmk: median(webmk), baseline, raw: median(raw), peer: { name: peerName, value: median(peer) }, note: 'the same vowels.wasm in both; kernel.call vs plugin.call' }),
      row({ id: 'svc.extism.p99', figure: 'an Extism plugin (C PDK) called from the page, count_vowels of 16 bytes, p99', unit: 'ms', better: 'lower', webmk: quantile(webmk, 0.99), baseline, raw: quantile(raw, 0.99), peer: { name: peerName, value: quantile(peer, 0.99) } }),
    ],
    breakdown: [{ id: 'svc.extism.page.p50', what: 'the Extism JS SDK running the plugin on the page thread (no worker), p50', value: median(onPage), unit: 'ms' }],
    detail: { extismWebmk: samples(webmk), extismPeer: samples(peer), extismRaw: samples(raw), extismOnPage: samples(onPage) },
  };
}
