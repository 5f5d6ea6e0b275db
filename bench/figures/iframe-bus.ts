/**
 * The bus into the `iframe` mode: publish-to-receive latency between a worker-mode and an
 * iframe-mode `busbench`, beside a raw MessagePort between a page worker and a worker in a
 * sandboxed frame, the same webmk measurement all in workers, and the same hops as the iframe
 * host makes with nothing of webmk (a doorbell the page wakes on, the page <-> frame port, a
 * doorbell in the frame); then 64-byte messages/s into an iframe subscriber beside worker to
 * worker and a raw MessagePort into a frame's worker. The breakdown times each hop alone.
 */
import type { Kernel } from '../../src/kernel';
import { frameBellRun, openBellFrame, openMainEchoFrame, openPortWorkerFrame, portWorkerCode } from '../lib/frame';
import { median, quantile, round, row, samples, type FigureResult } from '../lib/report';
import { busKernel, LATENCY_N, MSG, newPortWorker, reply, webmkFlood, webmkLatency } from './bus';

/** Warm-up round trips of the raw measurements (busbench's own warm-up is 200 too). */
const WARMUP = 200;
const ROUNDS = 3;
const FLOODS = 2;
/** Messages per flood: fewer than the bus figure's 100,000, each crosses the page and the frame one at a time. */
const FLOOD_N = 20_000;

interface Lat {
  p50: number;
  p99: number;
}

const one = new Uint8Array(1);

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** One way, ms: p50 and p99 of round trips / 2. */
function oneWay(rtt: number[]): Lat {
  return { p50: quantile(rtt, 0.5) / 2, p99: quantile(rtt, 0.99) / 2 };
}

/** Raw baseline: a page worker pings a worker inside a sandboxed frame over a MessagePort handed to it. */
async function rawFrameLatency(code: string): Promise<number[]> {
  const { port1, port2 } = new MessageChannel();
  const f = await openPortWorkerFrame(code, { type: 'pong' }, port2);
  const a = newPortWorker();
  try {
    const done = reply<number[]>(a);
    a.postMessage({ type: 'ping', port: port1, n: LATENCY_N, warmup: WARMUP }, [port1]);
    return await done;
  } finally {
    a.terminate();
    f.close();
  }
}

/**
 * A page worker rings a doorbell in shared memory and sleeps on another; the page's main thread
 * wakes on `Atomics.waitAsync` (as the iframe host's bus relay does) and calls `forward`, which
 * calls the answer it is given (ring the worker back) now or later. Round trips, ms.
 */
async function pageBellRun(forward: (answer: () => void) => void): Promise<number[]> {
  const bell = new Int32Array(new SharedArrayBuffer(8));
  const answer = (): void => {
    Atomics.add(bell, 1, 1);
    Atomics.notify(bell, 1);
  };
  const w = newPortWorker();
  try {
    const done = reply<number[]>(w);
    w.postMessage({ type: 'bell-ping', sab: bell.buffer, n: LATENCY_N, warmup: WARMUP });
    for (let i = 0; i < LATENCY_N + WARMUP; i++) {
      const r = waitAsync(bell, 0, i);
      if (r.async) await r.value;
      forward(answer);
    }
    return await done;
  } finally {
    w.terminate();
  }
}

/**
 * The iframe host's hops with nothing of webmk: page worker -> doorbell -> page main thread ->
 * port -> frame main thread -> doorbell -> frame worker -> message -> frame main thread -> port ->
 * page main thread -> doorbell -> page worker.
 */
async function rawHops(code: string): Promise<number[]> {
  const { frame, port } = await openBellFrame(code);
  let answer: (() => void) | null = null;
  port.onmessage = () => answer?.();
  try {
    return await pageBellRun((a) => {
      answer = a;
      port.postMessage(one);
    });
  } finally {
    port.close();
    frame.remove();
  }
}

/** The page's main thread pings a sandboxed frame's main thread over a MessagePort. Round trips, ms. */
async function mainEcho(): Promise<number[]> {
  const { frame, port } = await openMainEchoFrame();
  try {
    return await new Promise<number[]>((ok) => {
      const rtt: number[] = [];
      let i = 0;
      let t0 = performance.now();
      port.onmessage = () => {
        if (i >= WARMUP) rtt.push(performance.now() - t0);
        i++;
        if (i === LATENCY_N + WARMUP) {
          ok(rtt);
          return;
        }
        t0 = performance.now();
        port.postMessage(one);
      };
      port.postMessage(one);
    });
  } finally {
    port.close();
    frame.remove();
  }
}

/** Raw: a page worker floods a worker in a sandboxed frame over a MessagePort, one message per postMessage; msgs/s. */
async function rawFrameFlood(code: string): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const f = await openPortWorkerFrame(code, { type: 'sink', n: FLOOD_N }, port2);
  const src = newPortWorker();
  try {
    if ((await f.says<string>()) !== 'ready') throw new Error('the frame sink did not start');
    src.postMessage({ type: 'flood', ports: [port1], n: FLOOD_N, size: MSG, batch: 1 }, [port1]);
    const ms = await f.says<number>();
    return FLOOD_N / (ms / 1000);
  } finally {
    src.terminate();
    f.close();
  }
}

export async function iframeBusFigure(): Promise<FigureResult> {
  const code = await portWorkerCode();
  const kernel: Kernel = await busKernel('iframe-bus');
  const lat: Record<'iframe' | 'worker' | 'raw' | 'hops', Lat[]> = { iframe: [], worker: [], raw: [], hops: [] };
  const rtt: Record<'iframe' | 'worker' | 'raw' | 'hops' | 'pageBell' | 'mainEcho' | 'frameBell', number[]> = { iframe: [], worker: [], raw: [], hops: [], pageBell: [], mainEcho: [], frameBell: [] };
  const flood: Record<'iframe' | 'worker' | 'raw', number[]> = { iframe: [], worker: [], raw: [] };
  try {
    // The first iframe spawn makes the container frame: not counted.
    await webmkLatency(kernel, 'iframe');
    for (let i = 0; i < ROUNDS; i++) {
      const l = await webmkLatency(kernel, 'iframe');
      lat.iframe.push(l);
      rtt.iframe.push(l.p50 * 2);
      const w = await webmkLatency(kernel);
      lat.worker.push(w);
      rtt.worker.push(w.p50 * 2);
      const r = await rawFrameLatency(code);
      lat.raw.push(oneWay(r));
      rtt.raw.push(median(r));
      const h = await rawHops(code);
      lat.hops.push(oneWay(h));
      rtt.hops.push(median(h));
      rtt.pageBell.push(median(await pageBellRun((answer) => answer())));
      rtt.mainEcho.push(median(await mainEcho()));
      rtt.frameBell.push(median(await frameBellRun(code, LATENCY_N, WARMUP)));
    }
    for (let i = 0; i < FLOODS; i++) {
      flood.iframe.push(await webmkFlood(kernel, 1, 'iframe', FLOOD_N));
      flood.worker.push(await webmkFlood(kernel, 1, undefined, FLOOD_N));
      flood.raw.push(await rawFrameFlood(code));
    }
  } finally {
    kernel.dispose();
  }

  const pick = (xs: Lat[], k: keyof Lat): number => round(median(xs.map((x) => x[k])));
  const figure = (q: string): string => `publish to receive, worker to iframe process, ${q} (round trip / 2: ping in worker mode, pong in iframe mode, median of ${ROUNDS} runs of ${LATENCY_N})`;
  const rawPort = 'MessagePort between a page worker and a worker in a sandboxed frame (the port handed to that worker), one way (round trip / 2)';
  const rate = `64-byte messages/s into one iframe-mode subscriber from a worker-mode publisher (${FLOOD_N.toLocaleString('en')} messages, no drops)`;
  const ms = (xs: number[]): number => round(median(xs));
  return {
    rows: [
      row({ id: 'iframe-bus.lat.p50', figure: figure('p50'), unit: 'ms', better: 'lower', webmk: pick(lat.iframe, 'p50'), baseline: rawPort, raw: pick(lat.raw, 'p50'), target: { op: '<=', ratio: 1.5 } }),
      row({ id: 'iframe-bus.lat.p99', figure: figure('p99'), unit: 'ms', better: 'lower', webmk: pick(lat.iframe, 'p99'), baseline: `${rawPort}, p99`, raw: pick(lat.raw, 'p99') }),
      row({ id: 'iframe-bus.lat.worker.p50', figure: figure('p50'), unit: 'ms', better: 'lower', webmk: pick(lat.iframe, 'p50'), baseline: 'the same, both processes in worker mode', raw: pick(lat.worker, 'p50') }),
      row({ id: 'iframe-bus.lat.worker.p99', figure: figure('p99'), unit: 'ms', better: 'lower', webmk: pick(lat.iframe, 'p99'), baseline: 'the same, both processes in worker mode, p99', raw: pick(lat.worker, 'p99') }),
      row({ id: 'iframe-bus.lat.hops.p50', figure: figure('p50'), unit: 'ms', better: 'lower', webmk: pick(lat.iframe, 'p50'), baseline: 'the iframe host\'s hops with nothing of webmk: page worker -> doorbell -> page main thread (Atomics.waitAsync) -> port -> frame main thread -> doorbell -> frame worker -> postMessage -> frame main thread -> port -> page main thread -> doorbell -> page worker, one way (round trip / 2)', raw: pick(lat.hops, 'p50'), note: 'the iframe process\'s publish is a message to its frame\'s main thread, then the page\'s (a kernel call); a message to it is drained from the kernel\'s inbox by the page\'s main thread, woken by Atomics.waitAsync, and written by the frame\'s main thread into a mirror inbox its worker sleeps on' }),
      row({ id: 'iframe-bus.lat.hops.p99', figure: figure('p99'), unit: 'ms', better: 'lower', webmk: pick(lat.iframe, 'p99'), baseline: 'the same hops with nothing of webmk, p99', raw: pick(lat.hops, 'p99') }),
      row({ id: 'iframe-bus.rate', figure: rate, unit: 'msgs/s', better: 'higher', webmk: round(median(flood.iframe), 0), baseline: 'the same, subscriber in worker mode', raw: round(median(flood.worker), 0) }),
      row({ id: 'iframe-bus.rate.raw', figure: rate, unit: 'msgs/s', better: 'higher', webmk: round(median(flood.iframe), 0), baseline: 'MessagePort from a page worker to a worker in a sandboxed frame, one postMessage per message', raw: round(median(flood.raw), 0), note: 'first to last receive, timed in the subscriber; the page\'s main thread forwards each message to the frame in a postMessage of its own, and after 4 ms of forwarding yields with setTimeout(0) (clamped to about 4 ms once nested)' }),
    ],
    breakdown: [
      { id: 'iframe-bus.rtt.iframe', what: 'round trip worker <-> iframe process, p50 (webmk)', value: ms(rtt.iframe), unit: 'ms' },
      { id: 'iframe-bus.rtt.worker', what: 'round trip worker <-> worker, p50 (webmk)', value: ms(rtt.worker), unit: 'ms' },
      { id: 'iframe-bus.rtt.raw-hops', what: 'raw: round trip over the iframe host\'s hops, nothing of webmk, p50', value: ms(rtt.hops), unit: 'ms' },
      { id: 'iframe-bus.rtt.page-bell', what: 'raw hop: page worker rings, the page\'s main thread wakes on Atomics.waitAsync and rings back, round trip p50', value: ms(rtt.pageBell), unit: 'ms' },
      { id: 'iframe-bus.rtt.main-echo', what: 'raw hop: page main thread <-> sandboxed frame\'s main thread over a MessagePort, round trip p50', value: ms(rtt.mainEcho), unit: 'ms' },
      { id: 'iframe-bus.rtt.frame-bell', what: 'raw hop: frame main thread rings a doorbell its worker sleeps on, the worker answers by postMessage, round trip p50', value: ms(rtt.frameBell), unit: 'ms' },
      { id: 'iframe-bus.rtt.raw-port', what: 'raw: round trip page worker <-> frame worker over a MessagePort, p50', value: ms(rtt.raw), unit: 'ms' },
      { id: 'iframe-bus.rtt.webmk-code', what: 'webmk\'s own work on the iframe round trip: iframe round trip minus the raw hops\' (p50s)', value: round(ms(rtt.iframe) - ms(rtt.hops)), unit: 'ms' },
    ],
    detail: {
      latency: lat,
      rttP50Ms: Object.fromEntries(Object.entries(rtt).map(([k, v]) => [k, samples(v)])),
      floodMsgsPerSec: Object.fromEntries(Object.entries(flood).map(([k, v]) => [k, v.map((x) => round(x, 0))])),
      verified: 'webmk floods: every drain reported none dropped; raw sinks counted every message',
    },
  };
}
