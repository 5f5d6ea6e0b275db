/**
 * The bus between workers: publish-to-receive latency, 64-byte message throughput and fan-out,
 * each beside raw MessagePorts between workers in the same run; and pipe throughput between
 * two modules beside memcpy.
 */
import { createKernel, type ExecutionMode, type Kernel, type Process } from '../../src/kernel';
import { busService } from '../../src/bus';
import { ringBetweenWorkers } from '../lib/bare-ring';
import { drain, fixtureBytes } from '../lib/modules';
import { median, quantile, round, row, samples, type FigureResult, type Row } from '../lib/report';

export const LATENCY_N = 2000;
export const FLOOD_N = 100_000;
export const MSG = 64;

/** A kernel whose inboxes hold a whole flood (no drops), with the bench stages installed. */
export async function busKernel(tag = 'bus'): Promise<Kernel> {
  const kernel = createKernel({ dbName: `bench-${tag}-${Date.now()}`, capabilities: [busService({ inboxBytes: 16 * 1024 * 1024 })] });
  await kernel.ready;
  await kernel.install(await fixtureBytes('busbench'), { name: 'busbench', grant: 'all' });
  await kernel.install(await fixtureBytes('pipetool'), { name: 'pipetool' });
  return kernel;
}

/** Reads a process's stdout until `text` shows; the rest keeps flowing into `out`. */
function watch(p: Process): { out: () => string; until: (text: string) => Promise<void> } {
  let text = '';
  const waiters: Array<() => void> = [];
  void (async () => {
    const reader = p.stdout.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      for (const w of waiters.splice(0)) w();
    }
  })();
  return {
    out: () => text,
    until: async (t) => {
      while (!text.includes(t)) await new Promise<void>((ok) => waiters.push(ok));
    },
  };
}

export async function spawnWatched(kernel: Kernel, args: string[], mode?: ExecutionMode): Promise<{ p: Process; w: ReturnType<typeof watch> }> {
  const p = await kernel.spawn('busbench', mode === undefined ? { args } : { args, mode });
  void p.stdin.close();
  return { p, w: watch(p) };
}

export function newPortWorker(): Worker {
  return new Worker(new URL('../port-worker.ts', import.meta.url), { type: 'module', name: 'raw ports' });
}

export function reply<T>(w: Worker): Promise<T> {
  return new Promise((ok) => {
    w.onmessage = (e: MessageEvent<T>) => ok(e.data);
  });
}

/** One-way latency, ms: webmk round trips / 2 measured inside the ping module (the pong in `pongMode`). */
export async function webmkLatency(kernel: Kernel, pongMode?: ExecutionMode): Promise<{ p50: number; p99: number }> {
  const pong = await spawnWatched(kernel, ['pong', String(LATENCY_N)], pongMode);
  await pong.w.until('ready');
  const ping = await spawnWatched(kernel, ['ping', String(LATENCY_N)]);
  await ping.p.exit;
  await ping.w.until('rtt_us');
  const m = /rtt_us ([\d.]+) ([\d.]+)/.exec(ping.w.out());
  await pong.p.kill();
  if (m === null) throw new Error(`ping printed ${ping.w.out()}`);
  return { p50: Number(m[1]) / 2000, p99: Number(m[2]) / 2000 };
}

export async function rawLatency(): Promise<{ p50: number; p99: number }> {
  const a = newPortWorker();
  const b = newPortWorker();
  const { port1, port2 } = new MessageChannel();
  b.postMessage({ type: 'pong', port: port2 }, [port2]);
  const done = reply<number[]>(a);
  a.postMessage({ type: 'ping', port: port1, n: LATENCY_N, warmup: 200 }, [port1]);
  const rtt = await done;
  a.terminate();
  b.terminate();
  return { p50: quantile(rtt, 0.5) / 2, p99: quantile(rtt, 0.99) / 2 };
}

/** Messages per second each subscriber receives, with `subs` subscribers (in `drainMode`), `n` messages. */
export async function webmkFlood(kernel: Kernel, subs: number, drainMode?: ExecutionMode, n = FLOOD_N): Promise<number> {
  const drains = await Promise.all(Array.from({ length: subs }, () => spawnWatched(kernel, ['drain', String(n)], drainMode)));
  for (const d of drains) await d.w.until('ready');
  const pub = await spawnWatched(kernel, ['flood', String(n), String(MSG)]);
  await pub.p.exit;
  const rates = await Promise.all(
    drains.map(async (d) => {
      await d.p.exit;
      await d.w.until('dropped');
      const m = /us (\d+) dropped (\d+)/.exec(d.w.out());
      if (m === null || Number(m[2]) !== 0) throw new Error(`drain printed ${d.w.out()}`);
      return n / (Number(m[1]) / 1e6);
    }),
  );
  return median(rates);
}

export async function rawFlood(subs: number, batch: number): Promise<number> {
  const sinks = Array.from({ length: subs }, () => newPortWorker());
  const src = newPortWorker();
  const ports: MessagePort[] = [];
  const results: Array<Promise<number>> = [];
  for (const sink of sinks) {
    const { port1, port2 } = new MessageChannel();
    const ready = reply<string>(sink);
    sink.postMessage({ type: 'sink', port: port2, n: FLOOD_N }, [port2]);
    await ready;
    results.push(reply<number>(sink));
    ports.push(port1);
  }
  src.postMessage({ type: 'flood', ports, n: FLOOD_N, size: MSG, batch }, ports);
  const ms = await Promise.all(results);
  for (const w of [...sinks, src]) w.terminate();
  return median(ms.map((x) => FLOOD_N / (x / 1000)));
}

/** MiB/s of 256 MiB through `zero | sink` in writes of `chunk` bytes. */
async function webmkPipe(kernel: Kernel, chunk: number): Promise<number> {
  const total = 256 * 1024 * 1024;
  const t0 = performance.now();
  const [a, b] = await kernel.pipeline([{ name: 'pipetool', args: ['zero', String(total), String(chunk)] }, { name: 'pipetool', args: ['sink'] }]);
  if (a === undefined || b === undefined) throw new Error('two stages');
  const [out] = await Promise.all([drain(b.stdout, true), a.exit, b.exit]);
  const ms = performance.now() - t0;
  const printed = new TextDecoder().decode(out.chunks[0]);
  if (Number(printed.trim()) !== total) throw new Error(`sink counted ${printed}`);
  return total / (1024 * 1024) / (ms / 1000);
}

/** MiB/s of copying 256 MiB in `chunk`-byte pieces into a 1 MiB buffer (memcpy on the page). */
function memcpy(chunk: number): number {
  const total = 256 * 1024 * 1024;
  const src = new Uint8Array(chunk).fill(1);
  const dst = new Uint8Array(1024 * 1024);
  const t0 = performance.now();
  for (let done = 0, at = 0; done < total; done += chunk, at = (at + chunk) % dst.length) dst.set(src, at);
  return total / (1024 * 1024) / ((performance.now() - t0) / 1000);
}

export async function busFigure(): Promise<FigureResult> {
  const kernel = await busKernel();
  const lat: Array<{ p50: number; p99: number }> = [];
  const rawLat: Array<{ p50: number; p99: number }> = [];
  for (let i = 0; i < 3; i++) {
    lat.push(await webmkLatency(kernel));
    rawLat.push(await rawLatency());
  }
  const flood1 = [await webmkFlood(kernel, 1), await webmkFlood(kernel, 1)];
  const raw1 = [await rawFlood(1, 1), await rawFlood(1, 1)];
  const raw1b = [await rawFlood(1, 256), await rawFlood(1, 256)];
  const flood4 = [await webmkFlood(kernel, 4)];
  const raw4 = [await rawFlood(4, 1)];
  const raw4b = [await rawFlood(4, 256)];
  const pipes: Row[] = [];
  const detailPipes: Record<string, number[]> = {};
  for (const chunk of [4096, 65536]) {
    await webmkPipe(kernel, chunk); // warm-up
    const w = [await webmkPipe(kernel, chunk), await webmkPipe(kernel, chunk)];
    const m = [memcpy(chunk), memcpy(chunk)];
    const mib = (ms: number): number => 256 / (ms / 1000);
    const ring = [mib(await ringBetweenWorkers(256 * 1024 * 1024, chunk)), mib(await ringBetweenWorkers(256 * 1024 * 1024, chunk))];
    detailPipes[`pipe${chunk}`] = samples(w);
    detailPipes[`memcpy${chunk}`] = samples(m);
    detailPipes[`ring${chunk}`] = samples(ring);
    pipes.push(
      row({
        id: `pipe.${chunk}`,
        figure: `pipe between two modules, ${chunk / 1024} KiB writes (256 MiB, zero | sink)`,
        unit: 'MiB/s',
        better: 'higher',
        webmk: round(median(w), 0),
        baseline: `memcpy of the same bytes in ${chunk / 1024} KiB pieces on the page`,
        raw: round(median(m), 0),
        target: { op: '>=', ratio: 0.3 },
      }),
      row({
        id: `pipe.${chunk}.ring`,
        figure: `pipe between two modules, ${chunk / 1024} KiB writes (256 MiB, zero | sink)`,
        unit: 'MiB/s',
        better: 'higher',
        webmk: round(median(w), 0),
        baseline: `bare SAB ring between two workers, ${chunk / 1024} KiB writes and reads (1 MiB)`,
        raw: round(median(ring), 0),
        note: 'the ceiling of a ring between two threads: no WASI, no kernel',
      }),
    );
  }
  kernel.dispose();
  const pick = (xs: Array<{ p50: number; p99: number }>, k: 'p50' | 'p99') => median(xs.map((x) => x[k]));
  const rows: Row[] = [
    row({ id: 'bus.lat.p50', figure: 'publish to receive, worker to worker, p50 (round trip / 2)', unit: 'ms', better: 'lower', webmk: round(pick(lat, 'p50')), baseline: 'MessagePort between two workers, one way (round trip / 2)', raw: round(pick(rawLat, 'p50')), target: { op: '<=', ratio: 1.5 } }),
    row({ id: 'bus.lat.p99', figure: 'publish to receive, worker to worker, p99 (round trip / 2)', unit: 'ms', better: 'lower', webmk: round(pick(lat, 'p99')), baseline: 'MessagePort between two workers, one way (round trip / 2)', raw: round(pick(rawLat, 'p99')) }),
    row({ id: 'bus.rate', figure: `64-byte messages/s, one subscriber (${FLOOD_N.toLocaleString('en')} messages)`, unit: 'msgs/s', better: 'higher', webmk: round(median(flood1), 0), baseline: 'MessagePort, one postMessage per message', raw: round(median(raw1), 0), target: { op: '>=', ratio: 0.7 } }),
    row({ id: 'bus.rate.batched', figure: `64-byte messages/s, one subscriber (${FLOOD_N.toLocaleString('en')} messages)`, unit: 'msgs/s', better: 'higher', webmk: round(median(flood1), 0), baseline: 'MessagePort, 256 messages per postMessage', raw: round(median(raw1b), 0), target: { op: '>=', ratio: 0.7 } }),
    row({ id: 'bus.fanout', figure: '64-byte messages/s per subscriber, 4 subscribers', unit: 'msgs/s', better: 'higher', webmk: round(median(flood4), 0), baseline: 'MessagePort to 4 workers, one postMessage per message', raw: round(median(raw4), 0), target: { op: '>=', ratio: 0.7 } }),
    row({ id: 'bus.fanout.batched', figure: '64-byte messages/s per subscriber, 4 subscribers', unit: 'msgs/s', better: 'higher', webmk: round(median(flood4), 0), baseline: 'MessagePort to 4 workers, 256 messages per postMessage', raw: round(median(raw4b), 0) }),
    ...pipes,
  ];
  return {
    rows,
    breakdown: [],
    detail: { latency: lat, rawLatency: rawLat, flood1, raw1, raw1b, flood4, raw4, raw4b, ...detailPipes },
  };
}
