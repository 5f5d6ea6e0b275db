/**
 * The page -> service round trip of `kernel.call` (the plugin's `echo` of 16 bytes) with the
 * service in the `iframe` mode (two hops more: the container, then its worker) and in `inpage`
 * (no hop: the call runs on the page as a promise), beside the worker figure (ADR 0032).
 */
import type { Kernel } from '../../src/kernel';
import { fixtureBytes } from '../lib/modules';
import { median, quantile, samples } from '../lib/report';

const WARMUP = 30;
const RUNS = 300;

/** `bytes` with its `webmk.manifest` section replaced by `manifest` (sections are walked by their LEB sizes). */
function withManifest(bytes: Uint8Array, manifest: unknown): Uint8Array {
  const out: number[] = [...bytes.subarray(0, 8)];
  const leb = (n: number): number[] => (n < 128 ? [n] : [(n & 127) | 128, ...leb(n >>> 7)]);
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    let size = 0;
    let shift = 0;
    let i = at + 1;
    for (;;) {
      const b = bytes[i++] as number;
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    const end = i + size;
    const name = new TextDecoder().decode(bytes.subarray(i + 1, i + 1 + (bytes[i] as number)));
    if (!(bytes[start] === 0 && name === 'webmk.manifest')) out.push(...bytes.subarray(start, end));
    at = end;
  }
  const name = [...new TextEncoder().encode('webmk.manifest')];
  const payload = [...leb(name.length), ...name, ...new TextEncoder().encode(JSON.stringify(manifest))];
  return new Uint8Array([...out, 0, ...leb(payload.length), ...payload]);
}

/** Round trips to the plugin served in the iframe and inpage modes. */
export async function serviceModeRows(kernel: Kernel): Promise<{ breakdown: Array<{ id: string; what: string; value: number; unit: string }>; detail: Record<string, unknown> }> {
  const bytes = await fixtureBytes('plugin');
  const manifest = { name: 'plugin-modes', version: '1.0.0', description: 'bench', permissions: { run: ['inpage'] } };
  const input = new Uint8Array(16).fill(7);
  const breakdown: Array<{ id: string; what: string; value: number; unit: string }> = [];
  const detail: Record<string, unknown> = {};
  for (const mode of ['iframe', 'inpage'] as const) {
    const name = `plugin-${mode}`;
    await kernel.install(withManifest(bytes, { ...manifest, name }), { name, grant: 'all' });
    await kernel.configure(name, { mode });
    const ms: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const t0 = performance.now();
      const out = await kernel.call(name, 'echo', input);
      if (out.length !== 16) throw new Error(`${name} echo gave ${out.length} bytes`);
      if (i >= WARMUP) ms.push(performance.now() - t0);
    }
    breakdown.push(
      { id: `svc.${mode}.p50`, what: `kernel.call round trip, page -> service in the ${mode} mode, p50`, value: median(ms), unit: 'ms' },
      { id: `svc.${mode}.p99`, what: `kernel.call round trip, page -> service in the ${mode} mode, p99`, value: quantile(ms, 0.99), unit: 'ms' },
    );
    detail[mode] = samples(ms);
  }
  return { breakdown, detail };
}
