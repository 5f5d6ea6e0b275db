/**
 * The address-space wall: how many parked modules one page holds before the browser refuses a
 * wasm memory, beside as many raw workers each holding one instance of the same module; and how
 * fast a spawn past the wall is refused once the kernel knows it. Runs last: it fills the page's
 * renderer.
 */
import { benchKernel, wasmModule } from '../lib/modules';
import { row, round, type FigureResult } from '../lib/report';

const MAX = 400;
const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** Raw workers, one at a time, each holding an instance, until one is refused. */
async function rawWall(module: WebAssembly.Module): Promise<{ count: number; message: string }> {
  const workers: Worker[] = [];
  let message = '';
  try {
    while (workers.length < MAX) {
      const w = new Worker(new URL('../hold-worker.ts', import.meta.url), { type: 'module', name: 'hold' });
      const answer = await new Promise<string>((ok) => {
        w.onmessage = (e: MessageEvent<string>) => ok(e.data);
        w.onerror = (e) => ok(e.message);
        w.postMessage(module);
      });
      workers.push(w);
      if (answer !== 'ok') {
        message = answer;
        break;
      }
    }
    return { count: workers.length - (message === '' ? 0 : 1), message };
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** Parked `cat`s, one at a time, until one ends with `no-memory-slot`; then one refused spawn. */
async function webmkWall(): Promise<{ count: number; limit: number | null; message: string; refusedMs: number; refusedCode: string }> {
  const kernel = await benchKernel('wall', [['cat', 'cat']]);
  const pids: number[] = [];
  try {
    let message = '';
    while (pids.length < MAX && message === '') {
      const p = await kernel.spawn('cat', {});
      const state = await new Promise<string>((ok) => {
        const check = (): boolean => {
          const s = kernel.processes().find((x) => x.pid === p.pid)?.state;
          if (s === undefined || s === 'starting') return false;
          kernel.removeEventListener('statechange', check);
          ok(s);
          return true;
        };
        if (!check()) kernel.addEventListener('statechange', check);
      });
      if (state === 'running') pids.push(p.pid);
      else message = `${kernel.processes().find((x) => x.pid === p.pid)?.reason ?? '?'}: ${kernel.processes().find((x) => x.pid === p.pid)?.message ?? ''}`;
    }
    const t0 = performance.now();
    const refusedCode = await kernel.spawn('cat', {}).then(
      (p) => {
        pids.push(p.pid);
        return 'none';
      },
      (e: { code?: string }) => e.code ?? 'unknown',
    );
    const refusedMs = performance.now() - t0;
    return { count: pids.length, limit: kernel.memorySlots().page.limit ?? null, message, refusedMs, refusedCode };
  } finally {
    for (const pid of pids) await kernel.kill(pid);
    kernel.dispose();
  }
}

export async function wallFigure(): Promise<FigureResult> {
  const module = await wasmModule('cat');
  const raw = await rawWall(module);
  // The terminated workers' memories are released a little later.
  await sleep(2000);
  const webmk = await webmkWall();
  const baseline = 'raw Workers each holding one instance of the same module';
  return {
    rows: [
      row({ id: 'w.live', figure: 'parked modules live at once before the address-space wall', unit: 'modules', better: 'higher', webmk: webmk.count, baseline, raw: raw.count, note: `then ${webmk.refusedCode} in ${round(webmk.refusedMs, 2)} ms` }),
    ],
    breakdown: [{ id: 'w.refused', what: 'a spawn past the known wall: time to its kernel/no-memory-slot rejection', value: round(webmk.refusedMs), unit: 'ms' }],
    detail: { raw, webmk },
  };
}
