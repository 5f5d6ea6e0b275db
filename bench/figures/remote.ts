/**
 * Remote mode between two nodes of the app (issue 13): a 64-byte round trip stdin -> stdout
 * through `cat` run on the other node, bus publish -> answer through `busbench pong` there, and
 * `kernel.call` made there (a 64-byte echo), vs a raw BroadcastChannel round trip between the same two
 * documents; and the time to notice a node that went away (its process ending with `link-lost`)
 * vs a raw Web Lock wait on a lock the removed document held. The other node is a same-origin
 * frame of this page running its own kernel (`?peer=`): the two share this page's thread, so a
 * round trip counts both sides' work on one core, as two busy tabs on this 2-core machine would.
 */
import type { Kernel, Process } from '../../src/kernel';
import { createKernel } from '../../src/kernel';
import { fixtureBytes, wasmBytes } from '../lib/modules';
import { median, quantile, row, samples, type FigureResult } from '../lib/report';

const ROUND_TRIPS = 300;
const WARMUP = 30;
const CLOSES = 8;

/** A frame of this page running a kernel on database `db` (or a raw echo), ready. */
async function peer(db: string, raw = false): Promise<HTMLIFrameElement> {
  const f = document.createElement('iframe');
  f.src = `./index.html?peer=${encodeURIComponent(db)}${raw ? '&raw=1' : ''}`;
  document.body.append(f);
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('the peer frame did not start')), 20_000);
    const check = (): void => {
      if (f.contentDocument?.body?.dataset.peer === 'ready') {
        clearTimeout(timer);
        ok();
      } else setTimeout(check, 5);
    };
    check();
  });
  return f;
}

/** Waits until `kernel` lists a node, and returns its id. */
async function otherNode(kernel: Kernel): Promise<string> {
  for (let i = 0; i < 4000; i++) {
    const n = kernel.nodes()[0];
    if (n !== undefined) return n.id;
    await new Promise((ok) => setTimeout(ok, 5));
  }
  throw new Error('the other node never showed');
}

/** ms of a 64-byte write to a remote `cat` until the same 64 bytes are read back. */
async function stdinRoundTrips(p: Process, n: number): Promise<number[]> {
  const w = p.stdin.getWriter();
  const r = p.stdout.getReader();
  const msg = new Uint8Array(64).fill(97);
  msg[63] = 10;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await w.write(msg);
    let got = 0;
    while (got < 64) {
      const { value, done } = await r.read();
      if (done) throw new Error('cat ended early');
      got += value.length;
    }
    out.push(performance.now() - t0);
  }
  w.releaseLock();
  r.releaseLock();
  return out;
}

/**
 * ms of a publish on `bench/ping` here until `bench/pong` is heard here, answered by `busbench
 * pong` on the other node: both topics cross the link (its grants there say it may).
 */
async function busRoundTrips(kernel: Kernel, n: number): Promise<number[]> {
  let wake: (() => void) | undefined;
  const off = kernel.bus.subscribe('bench/pong', () => wake?.());
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error('no pong in 10 s')), 10_000);
        wake = () => {
          clearTimeout(timer);
          ok();
        };
        kernel.bus.publish('bench/ping', new Uint8Array(64));
      });
      out.push(performance.now() - t0);
    }
  } finally {
    off();
  }
  return out;
}

/** Resolves once `p` wrote `text` on its stdout (and releases the reader). */
async function untilOutput(p: Process, text: string): Promise<void> {
  const r = p.stdout.getReader();
  let seen = '';
  const dec = new TextDecoder();
  while (!seen.includes(text)) {
    const { value, done } = await r.read();
    if (done) throw new Error(`ended before "${text}": ${seen}`);
    seen += dec.decode(value, { stream: true });
  }
  r.releaseLock();
}

/** ms of a 64-byte BroadcastChannel message to the echo frame and back. */
async function rawRoundTrips(channel: string, n: number): Promise<number[]> {
  const ch = new BroadcastChannel(channel);
  const msg = new Uint8Array(64);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((ok) => {
      ch.onmessage = () => ok();
      ch.postMessage({ to: 'echo', msg });
    });
    out.push(performance.now() - t0);
  }
  ch.close();
  return out;
}

const BULK = 32 * 1024 * 1024;
const PIECE = 64 * 1024;
/** The machine's load moves one 32 MiB run a lot: the median of a few. */
const BULK_RUNS = 5;

/** MB/s of BULK bytes written to a remote `cat` in PIECE writes while its output is read back. */
async function stdinBulk(p: Process): Promise<number> {
  const w = p.stdin.getWriter();
  const piece = new Uint8Array(PIECE).fill(120);
  const t0 = performance.now();
  const reading = (async () => {
    const r = p.stdout.getReader();
    let got = 0;
    while (got < BULK) {
      const { value, done } = await r.read();
      if (done) throw new Error('cat ended early');
      got += value.length;
    }
    r.releaseLock();
  })();
  for (let sent = 0; sent < BULK; sent += PIECE) await w.write(piece);
  await reading;
  const s = (performance.now() - t0) / 1000;
  w.releaseLock();
  return BULK / 1e6 / s;
}

/** MB/s of BULK bytes sent to the echo frame in PIECE messages and received back, at most 1 MiB on the way. */
async function rawBulk(channel: string): Promise<number> {
  const ch = new BroadcastChannel(channel);
  const piece = new Uint8Array(PIECE);
  const window = (1024 * 1024) / PIECE;
  let sent = 0;
  let back = 0;
  const t0 = performance.now();
  await new Promise<void>((ok) => {
    const pump = (): void => {
      while (sent < BULK / PIECE && sent - back < window) {
        ch.postMessage({ to: 'echo', msg: piece });
        sent++;
      }
    };
    ch.onmessage = () => {
      back++;
      if (back === BULK / PIECE) ok();
      else pump();
    };
    pump();
  });
  ch.close();
  return BULK / 1e6 / ((performance.now() - t0) / 1000);
}

/** ms from removing the peer frame until its remote process ends here with `link-lost`. */
async function closeNotice(kernel: Kernel, db: string): Promise<number> {
  const f = await peer(db);
  const node = await otherNode(kernel);
  const p = await kernel.spawn('cat', { mode: 'remote', node });
  const t0 = performance.now();
  f.remove();
  await p.exit;
  const ms = performance.now() - t0;
  const reason = kernel.processes().find((x) => x.pid === p.pid)?.reason;
  if (reason !== 'link-lost') throw new Error(`the remote process ended with ${String(reason)}, not link-lost`);
  return ms;
}

/** ms from removing a frame that holds a Web Lock until a waiter here is granted it. */
async function rawCloseNotice(db: string): Promise<number> {
  const f = await peer(db, true);
  let t0 = 0;
  const granted = navigator.locks.request(`bench-raw-lock/${db}`, () => performance.now());
  // The frame took the lock before it said ready; the request above waits behind it.
  t0 = performance.now();
  f.remove();
  return (await granted) - t0;
}

export async function remoteFigure(): Promise<FigureResult> {
  // Both nodes open one database (the app's registry): the frame's kernel finds `cat` installed.
  const ns = `bench-remote-${Date.now()}`;
  const main = createKernel({ dbName: ns });
  await main.ready;
  await main.install(await wasmBytes('cat'), { name: 'cat' });
  await main.install(await fixtureBytes('busbench'), { name: 'busbench', grant: 'all' });
  await main.install(await fixtureBytes('plugin'), { name: 'plugin', grant: 'all' });
  try {
    const frame = await peer(ns);
    const node = await otherNode(main);
    const p = await main.spawn('cat', { mode: 'remote', node });
    await stdinRoundTrips(p, WARMUP);
    const webmk = await stdinRoundTrips(p, ROUND_TRIPS);
    const bulks: number[] = [];
    for (let i = 0; i < BULK_RUNS; i++) bulks.push(await stdinBulk(p));
    await p.kill();
    const pong = await main.spawn('busbench', { mode: 'remote', node, args: ['pong', String(ROUND_TRIPS + WARMUP + 1000)] });
    await untilOutput(pong, 'ready');
    await busRoundTrips(main, WARMUP);
    const bus = await busRoundTrips(main, ROUND_TRIPS);
    await pong.kill();
    // kernel.call on the other node (ADR 0038): echo of 64 bytes, its instance there.
    const callInput = new Uint8Array(64).fill(99);
    const calls: number[] = [];
    for (let i = 0; i < WARMUP + ROUND_TRIPS; i++) {
      const t0 = performance.now();
      const out = await main.call('plugin', 'echo', callInput, { node });
      if (out.length !== 64) throw new Error(`echo gave ${out.length} bytes`);
      if (i >= WARMUP) calls.push(performance.now() - t0);
    }
    frame.remove();
    const echo = await peer(ns, true);
    await rawRoundTrips(`bench-echo/${ns}`, WARMUP);
    const raw = await rawRoundTrips(`bench-echo/${ns}`, ROUND_TRIPS);
    const rawBulks: number[] = [];
    for (let i = 0; i < BULK_RUNS; i++) rawBulks.push(await rawBulk(`bench-echo/${ns}`));
    echo.remove();
    const closes: number[] = [];
    const rawCloses: number[] = [];
    for (let i = 0; i < CLOSES; i++) {
      closes.push(await closeNotice(main, ns));
      rawCloses.push(await rawCloseNotice(`${ns}-${i}`));
    }
    return {
      rows: [
        row({ id: 'remote.rtt.p50', figure: '64-byte stdin -> stdout round trip, cat on another node (p50)', unit: 'ms', better: 'lower', webmk: median(webmk), baseline: 'BroadcastChannel round trip between the same documents', raw: median(raw) }),
        row({ id: 'remote.rtt.p95', figure: '64-byte stdin -> stdout round trip, cat on another node (p95)', unit: 'ms', better: 'lower', webmk: quantile(webmk, 0.95), baseline: 'BroadcastChannel round trip', raw: quantile(raw, 0.95) }),
        row({ id: 'remote.bus.p50', figure: '64-byte bus publish -> an answer published by busbench on another node -> heard here (p50)', unit: 'ms', better: 'lower', webmk: median(bus), baseline: 'BroadcastChannel round trip between the same documents', raw: median(raw) }),
        row({ id: 'remote.bus.p95', figure: '64-byte bus publish -> answer from another node -> heard here (p95)', unit: 'ms', better: 'lower', webmk: quantile(bus, 0.95), baseline: 'BroadcastChannel round trip', raw: quantile(raw, 0.95) }),
        row({ id: 'remote.call.p50', figure: 'kernel.call of a 64-byte echo made on another node (p50)', unit: 'ms', better: 'lower', webmk: median(calls), baseline: 'BroadcastChannel round trip between the same documents', raw: median(raw) }),
        row({ id: 'remote.call.p95', figure: 'kernel.call of a 64-byte echo made on another node (p95)', unit: 'ms', better: 'lower', webmk: quantile(calls, 0.95), baseline: 'BroadcastChannel round trip', raw: quantile(raw, 0.95) }),
        row({ id: 'remote.bulk', figure: '32 MiB through cat on another node, 64 KiB writes, read back here (median of 5)', unit: 'MB/s', better: 'higher', webmk: median(bulks), baseline: 'BroadcastChannel, 64 KiB messages to an echo frame and back, 1 MiB in flight', raw: median(rawBulks) }),
        row({ id: 'remote.gone', figure: 'a node gone -> its remote process ended with link-lost (median)', unit: 'ms', better: 'lower', webmk: median(closes), baseline: 'Web Lock granted after its holder frame was removed', raw: median(rawCloses), note: 'the other node is a same-origin frame of the page: both share one thread' }),
      ],
      breakdown: [],
      detail: { webmk: samples(webmk), bus: samples(bus), calls: samples(calls), raw: samples(raw), bulks: samples(bulks), rawBulks: samples(rawBulks), closes: samples(closes), rawCloses: samples(rawCloses) },
    };
  } finally {
    main.dispose();
  }
}
