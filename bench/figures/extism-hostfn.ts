/**
 * Extism host functions (ADR 0035): `kernel.call` of a plugin (the `hostfn` fixture, built with
 * Extism's C PDK) whose call makes one host function call to the page (`greet`: a block in, a
 * block out), against its peer, the Extism JS SDK running the same wasm in a worker with the same
 * host function on the page (`runInWorker`); alternated call by call. The cost of the host
 * function itself is the difference with `kernel.call` of a function that calls none.
 */
import createPlugin, { type CallContext } from '@extism/extism';
import type { Kernel } from '../../src/kernel';
import { fixtureBytes } from '../lib/modules';
import { median, quantile, row, samples, type Part, type Row } from '../lib/report';

const WARMUP = 50;
const RUNS = 500;

/** Rows comparing a plugin call with one host function call, webmk vs the Extism JS SDK. */
export async function extismHostRows(kernel: Kernel): Promise<{ rows: Row[]; breakdown: Part[]; detail: Record<string, unknown> }> {
  const bytes = await fixtureBytes('hostfn');
  await kernel.install(bytes, { name: 'hostfn', grant: 'all' });
  await kernel.install(await fixtureBytes('pdkprobe'), { name: 'pdkprobe' });
  const withdraw = kernel.provide('extism:host/user', { greet: (plugin, addr) => plugin.store(`Hello, ${plugin.readString(addr) ?? ''}!`) });
  const sdk = await createPlugin(
    { wasm: [{ data: bytes.slice() }] },
    {
      useWasi: true,
      runInWorker: true,
      functions: {
        'extism:host/user': {
          greet: (ctx: CallContext, addr: bigint) => ctx.store(`Hello, ${ctx.read(addr)?.text() ?? ''}!`),
          add: (_ctx: CallContext, a: bigint, b: bigint) => a + b,
          nothing_here: () => 0,
        },
      },
    },
  );
  const input = new TextEncoder().encode('Extism in webmk!');
  const webmk: number[] = [];
  const peer: number[] = [];
  const plain: number[] = [];
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      let t0 = performance.now();
      const a = new TextDecoder().decode(await kernel.call('hostfn', 'greet', input));
      const w = performance.now() - t0;
      t0 = performance.now();
      const b = (await sdk.call('greet', input))?.text() ?? '';
      const p = performance.now() - t0;
      t0 = performance.now();
      await kernel.call('pdkprobe', 'greet', input);
      const n = performance.now() - t0;
      if (i === 0 && (a !== 'Hello, Extism in webmk!!' || b !== a)) throw new Error(`greet gave "${a}" and "${b}"`);
      if (i >= WARMUP) {
        webmk.push(w);
        peer.push(p);
        plain.push(n);
      }
    }
  } finally {
    withdraw();
    await sdk.close();
  }
  const baseline = 'kernel.call of a C PDK plugin function that calls no host function (pdkprobe.greet)';
  const peerName = 'Extism JS SDK 1.0.3, runInWorker, the same host function on the page';
  return {
    rows: [
      row({ id: 'svc.hostfn.p50', figure: 'an Extism plugin (C PDK) calling one host function on the page, from the page, p50', unit: 'ms', better: 'lower', webmk: median(webmk), baseline, raw: median(plain), peer: { name: peerName, value: median(peer) }, note: 'hostfn.greet: a block to the page, a block back' }),
      row({ id: 'svc.hostfn.p99', figure: 'an Extism plugin (C PDK) calling one host function on the page, from the page, p99', unit: 'ms', better: 'lower', webmk: quantile(webmk, 0.99), baseline, raw: quantile(plain, 0.99), peer: { name: peerName, value: quantile(peer, 0.99) } }),
    ],
    breakdown: [],
    detail: { hostfnWebmk: samples(webmk), hostfnPeer: samples(peer), hostfnPlain: samples(plain) },
  };
}
