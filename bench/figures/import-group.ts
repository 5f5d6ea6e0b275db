/**
 * Linked imports in an instance group (ADR 0033): the groupbench fixture calls the plugin's `echo`
 * (16 bytes in and out, the linked-import ABI) many times in a row and reports its own mean, with
 * the plugin in its instance group (a direct call into an instance in its worker) and without
 * (a call to the plugin's service instance in its own worker: through the kernel for the first,
 * then worker to worker, ADR 0027). The baseline is the same copy in and out through a function
 * of the fixture itself called through a pointer: a plain wasm-to-wasm call, in the same batches'
 * processes. Each sample is one batch's mean; batches alternate so all meet the same load.
 * Breakdown: what the provider's side costs alone (its Extism host's begin and end, and `echo`,
 * whose input and output go through nine host calls), the same instance called from JS on this
 * page's thread. Figures in ns: a direct call is a few microseconds, the floor a few ns.
 */
import { createKernel, type Kernel } from '../../src/kernel';
import { ExtismHost } from '../../src/process/extism';
import { fixtureBytes } from '../lib/modules';
import { median, row, samples, type FigureResult } from '../lib/report';

const BATCHES = 7;
/** Calls per batch: a direct call costs about a microsecond, a cross-worker one tens of them. */
const CALLS = { group: 20_000, kernel: 500, local: 200_000 };

/** The plugin's `echo` called `n` times from JS, input set and output taken as a call in a group does: ns per call. */
function extismAlone(module: WebAssembly.Module, n: number): number {
  const host = new ExtismHost(new SharedArrayBuffer(4096), {});
  const env = host.imports();
  const imports: Record<string, Record<string, WebAssembly.ExportValue>> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    (imports[i.module] ??= {})[i.name] = (i.module === 'extism:host/env' ? env[i.name] : () => 52) as WebAssembly.ExportValue;
  }
  const inst = new WebAssembly.Instance(module, imports);
  (inst.exports._initialize as () => void)();
  const echo = inst.exports.echo as () => number;
  const input = new Uint8Array(16).fill(7);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    host.begin(input);
    echo();
    if (host.end().output.length !== 16) throw new Error('echo gave another length');
  }
  return ((performance.now() - t0) * 1e6) / n;
}

/** One batch: ns per call as the fixture timed it (it prints µs). */
async function batch(kernel: Kernel, mode: 'linked' | 'local', n: number, inProcess: string[]): Promise<number> {
  const p = await kernel.spawn('groupbench', { args: [mode, String(n)], inProcess });
  await p.stdin.close();
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exit]);
  const m = /us_per_call ([\d.]+)/.exec(out);
  if (code !== 0 || m === null) throw new Error(`groupbench ${mode}: exit ${code}, "${out.trim()}"`);
  return Number(m[1]) * 1000;
}

export async function importGroupFigure(): Promise<FigureResult> {
  const kernel = createKernel({ dbName: `bench-import-group-${Date.now()}` });
  await kernel.ready;
  const group: number[] = [];
  const viaKernel: number[] = [];
  const local: number[] = [];
  const alone: number[] = [];
  try {
    const plugin = await fixtureBytes('plugin');
    const compiled = await WebAssembly.compile(plugin as Uint8Array<ArrayBuffer>);
    extismAlone(compiled, 20_000);
    await kernel.install(plugin, { name: 'plugin', grant: 'all' });
    await kernel.install(await fixtureBytes('groupbench'), { name: 'groupbench', grant: 'all' });
    // Warm: the service instance started, every module compiled, the JIT's tiers reached.
    await batch(kernel, 'linked', 1000, ['plugin']);
    await batch(kernel, 'linked', 50, []);
    await batch(kernel, 'local', 10_000, []);
    for (let i = 0; i < BATCHES; i++) {
      group.push(await batch(kernel, 'linked', CALLS.group, ['plugin']));
      viaKernel.push(await batch(kernel, 'linked', CALLS.kernel, []));
      local.push(await batch(kernel, 'local', CALLS.local, []));
      alone.push(extismAlone(compiled, CALLS.group));
    }
  } finally {
    kernel.dispose();
  }
  const baseline = 'plain wasm-to-wasm call doing the same copy in and out (a function of the caller, through a pointer)';
  return {
    rows: [
      row({ id: 'ig.group', figure: 'linked import round trip, provider in the instance group (echo of 16 bytes), mean of a batch, median of batches', unit: 'ns', better: 'lower', webmk: median(group), baseline, raw: median(local), note: `${BATCHES} batches of ${CALLS.group} calls` }),
      row({ id: 'ig.kernel', figure: 'linked import round trip, provider\'s service instance in its own worker (echo of 16 bytes), mean of a batch, median of batches', unit: 'ns', better: 'lower', webmk: median(viaKernel), baseline, raw: median(local), note: `${BATCHES} batches of ${CALLS.kernel} calls` }),
    ],
    breakdown: [
      { id: 'ig.extism', what: "the provider's side alone: its Extism host's begin, echo, end, called from JS on the page's thread", value: median(alone), unit: 'ns' },
      { id: 'ig.speedup', what: 'cross-worker call / call in the instance group', value: median(viaKernel) / median(group), unit: '×' },
    ],
    detail: { group: samples(group), kernel: samples(viaKernel), local: samples(local), alone: samples(alone) },
  };
}
