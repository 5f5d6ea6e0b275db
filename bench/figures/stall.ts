/**
 * A page that never stalls: the page's longest task and worst setTimeout(0) gap while 100
 * interactive modules start at once, while 1,000 spawn and exit in a loop, and while a module
 * floods stdout, the bus or the kernel with calls; each beside the same load made of raw Workers,
 * in the same run.
 */
import type { Kernel } from '../../src/kernel';
import { watchJank, type JankReport } from '../lib/jank';
import { benchKernel, drain, finish, fixtureBytes, wasmModule, why } from '../lib/modules';
import { newRawWorker, runRaw } from '../lib/raw';
import { round, row, type FigureResult, type Row } from '../lib/report';

const STARTS = 100;
const CYCLES = 1000;
/** Cycles in flight at once in the loop, on both sides. */
const IN_FLIGHT = 4;
const FLOOD_LINES = 100_000;
const BUS_MESSAGES = 100_000;
const CALLS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

interface Load {
  jank: JankReport;
  /** ms the load took. */
  ms: number;
}

async function watched(load: () => Promise<void>): Promise<Load> {
  const watch = watchJank();
  const t0 = performance.now();
  await load();
  const ms = performance.now() - t0;
  return { jank: await watch.stop(), ms };
}

/** Resolves when every pid in `pids` has left `starting`; rejects if one is not `running`. */
function allRunning(kernel: Kernel, pids: number[]): Promise<void> {
  return new Promise((ok, fail) => {
    const check = (): void => {
      const states = pids.map((pid) => kernel.processes().find((p) => p.pid === pid)?.state);
      if (states.some((s) => s === 'starting')) return;
      kernel.removeEventListener('statechange', check);
      const bad = pids.find((_, i) => states[i] !== 'running');
      if (bad === undefined) ok();
      else fail(new Error(`a started cat is not running: ${why(kernel, bad)}`));
    };
    kernel.addEventListener('statechange', check);
    check();
  });
}

/** 100 `cat`s spawned at once, until all are running (parked in a stdin read). */
async function webmkStarts(kernel: Kernel): Promise<Load> {
  const pids: number[] = [];
  const load = await watched(async () => {
    const ps = await Promise.all(Array.from({ length: STARTS }, () => kernel.spawn('cat')));
    pids.push(...ps.map((p) => p.pid));
    await allRunning(kernel, pids);
  });
  await Promise.all(pids.map((pid) => kernel.kill(pid)));
  return load;
}

/** 100 raw Workers created at once, each instantiating the same module and holding it. */
async function rawStarts(module: WebAssembly.Module): Promise<Load> {
  const workers: Worker[] = [];
  const load = await watched(async () => {
    const answers = await Promise.all(
      Array.from({ length: STARTS }, () => {
        const w = new Worker(new URL('../hold-worker.ts', import.meta.url), { type: 'module', name: 'hold' });
        workers.push(w);
        return new Promise<string>((ok) => {
          w.onmessage = (e: MessageEvent<string>) => ok(e.data);
          w.onerror = (e) => ok(e.message);
          w.postMessage(module);
        });
      }),
    );
    const bad = answers.find((a) => a !== 'ok');
    if (bad !== undefined) throw new Error(`a raw worker could not hold the module: ${bad}`);
  });
  for (const w of workers) w.terminate();
  return load;
}

/** Runs `cycle` CYCLES times, IN_FLIGHT at a time. */
async function loop(cycle: () => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CYCLES) {
        next++;
        await cycle();
      }
    }),
  );
}

const webmkLoop = (kernel: Kernel): Promise<Load> =>
  watched(() =>
    loop(async () => {
      const r = await finish(await kernel.spawn('hello'));
      if (r.code !== 0 || !r.stdout.startsWith('hello, world')) throw new Error(`hello ran wrong: ${r.code}`);
    }),
  );

const rawLoop = (module: WebAssembly.Module): Promise<Load> =>
  watched(() =>
    loop(async () => {
      const w = newRawWorker();
      const r = await runRaw(w, { module, args: ['hello'], env: [], stdout: 'collect' }).finally(() => w.terminate());
      if (r.code !== 0) throw new Error(`a raw hello ran wrong: ${r.code}`);
    }),
  );

/** Bytes `lines N` prints: "line i\n" for i in 1..N. */
function expectedBytes(n: number): number {
  let total = 0;
  for (let i = 1; i <= n; i++) total += 6 + String(i).length;
  return total;
}

/** `lines` on a terminal: libc flushes every line, one write each. */
const webmkFlood = (kernel: Kernel): Promise<Load> =>
  watched(async () => {
    const p = await kernel.spawn('lines', { args: [String(FLOOD_LINES)], tty: true });
    const [out, code] = await Promise.all([drain(p.stdout), p.exit]);
    if (code !== 0 || out.bytes !== expectedBytes(FLOOD_LINES)) throw new Error(`lines: code ${code}, ${out.bytes} bytes`);
  });

/** The bare shim posting every write to the page. */
const rawFlood = (module: WebAssembly.Module): Promise<Load> =>
  watched(async () => {
    const w = newRawWorker();
    try {
      const r = await runRaw(w, { module, args: ['lines', String(FLOOD_LINES)], env: [], stdout: 'post' });
      if (r.code !== 0 || r.posted !== expectedBytes(FLOOD_LINES)) throw new Error(`raw lines: code ${r.code}, ${r.posted} bytes`);
    } finally {
      w.terminate();
    }
  });

/** Messages the bus-flood subscriber received (the rest its inbox dropped, counted). */
const busDelivered: number[] = [];

/** Two modules: one publishes BUS_MESSAGES, the other receives them all; nothing on the page subscribes. */
const webmkBusFlood = (kernel: Kernel): Promise<Load> =>
  watched(async () => {
    // A receive waits at most 300 ms (the flood's tail): messages its full inbox dropped are
    // counted, not awaited.
    const sub = await kernel.spawn('bustool', { args: ['sum', 'test/flood', String(BUS_MESSAGES), '300'] });
    const reader = sub.stdout.getReader();
    const dec = new TextDecoder();
    let out = '';
    while (!out.includes('ready\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      out += dec.decode(value, { stream: true });
    }
    const pub = await finish(await kernel.spawn('bustool', { args: ['pub', 'test/flood', String(BUS_MESSAGES), '64'] }));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += dec.decode(value, { stream: true });
    }
    await sub.exit;
    const [, got, dropped] = /got (\d+) bytes \d+ dropped (\d+)/.exec(out) ?? [];
    if (pub.code !== 0 || Number(got) + Number(dropped) !== BUS_MESSAGES) throw new Error(`bus flood: publisher ${pub.code} ${pub.stdout}, subscriber ${out}`);
    busDelivered.push(Number(got));
  });

/** Two raw workers flooding each other over a MessagePort, a message per message. */
const rawBusFlood = (): Promise<Load> =>
  watched(async () => {
    const src = `onmessage = (e) => {
      const { port, role, n } = e.data;
      if (role === 'sink') { let got = 0; port.onmessage = () => { if (++got === n) postMessage(got); }; }
      else { const msg = new Uint8Array(64); for (let i = 0; i < n; i++) port.postMessage(msg); postMessage(n); }
    };`;
    const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
    const [a, b] = [new Worker(url), new Worker(url)];
    const { port1, port2 } = new MessageChannel();
    const done = [a, b].map((w) => new Promise<number>((ok) => (w.onmessage = (e: MessageEvent<number>) => ok(e.data))));
    b.postMessage({ port: port2, role: 'sink', n: BUS_MESSAGES }, [port2]);
    a.postMessage({ port: port1, role: 'source', n: BUS_MESSAGES }, [port1]);
    const [, got] = await Promise.all(done);
    a.terminate();
    b.terminate();
    URL.revokeObjectURL(url);
    if (got !== BUS_MESSAGES) throw new Error(`raw bus flood: ${got} messages`);
  });

/** A module making CALLS kernel calls (the process list) in a row. */
const webmkCallFlood = (kernel: Kernel): Promise<Load> =>
  watched(async () => {
    const r = await finish(await kernel.spawn('bustool', { args: ['calls', String(CALLS)] }));
    if (r.code !== 0 || r.stdout !== `calls ${CALLS}\n`) throw new Error(`call flood: ${r.code} ${r.stdout}`);
  });

/** A raw worker asking the page CALLS times in a row, the page answering each with the same list as JSON. */
const rawCallFlood = (kernel: Kernel): Promise<Load> =>
  watched(async () => {
    const w = new Worker(new URL('../call-worker.ts', import.meta.url), { type: 'module', name: 'calls' });
    const calls = await new Promise<number>((ok) => {
      w.onmessage = (e: MessageEvent<{ type: 'ask' } | { type: 'done'; calls: number }>) => {
        if (e.data.type === 'done') ok(e.data.calls);
        else w.postMessage({ type: 'answer', text: JSON.stringify(kernel.processes()) });
      };
      w.postMessage({ type: 'go', n: CALLS });
    });
    w.terminate();
    if (calls !== CALLS) throw new Error(`raw call flood: ${calls} calls`);
  });

/** Waits until no process of `kernel` is left, so one load does not spill into the next. */
async function settled(kernel: Kernel): Promise<void> {
  while (kernel.processes().some((p) => p.state !== 'exited')) await sleep(20);
  await sleep(300);
}

export async function stallFigure(): Promise<FigureResult> {
  const kernel = await benchKernel('stall', [
    ['cat', 'cat'],
    ['hello', 'hello'],
    ['lines', 'lines'],
  ]);
  await kernel.install(await fixtureBytes('bustool'), { name: 'bustool', grant: 'all' });
  const [cat, hello, lines] = await Promise.all([wasmModule('cat'), wasmModule('hello'), wasmModule('lines')]);
  const results: Record<string, { webmk: Load; raw: Load }> = {};
  try {
    // Warm both sides' compilers and the kernel's caches.
    await finish(await kernel.spawn('hello'));
    await settled(kernel);
    // A terminated worker's wasm memory is released a little later: wait before the next load.
    const rawStart = await rawStarts(cat);
    await sleep(2000);
    results.starts = { webmk: await webmkStarts(kernel), raw: rawStart };
    await settled(kernel);
    await sleep(2000);
    const cycles = { webmk: await webmkLoop(kernel), raw: { jank: null as unknown as JankReport, ms: 0 } };
    await settled(kernel);
    cycles.raw = await rawLoop(hello);
    await sleep(500);
    results.loop = cycles;
    const flood = { webmk: await webmkFlood(kernel), raw: { jank: null as unknown as JankReport, ms: 0 } };
    await settled(kernel);
    flood.raw = await rawFlood(lines);
    results.flood = flood;
    await settled(kernel);
    const bus = await webmkBusFlood(kernel);
    await settled(kernel);
    results.bus = { webmk: bus, raw: await rawBusFlood() };
    await settled(kernel);
    const calls = await webmkCallFlood(kernel);
    await settled(kernel);
    results.calls = { webmk: calls, raw: await rawCallFlood(kernel) };
  } finally {
    kernel.dispose();
  }
  const what: Record<string, [string, string]> = {
    starts: [`${STARTS} interactive modules (cat) start at once, until all run`, `${STARTS} new Workers at once, each instantiating cat and holding it`],
    loop: [`${CYCLES} spawn/exit cycles of hello, ${IN_FLIGHT} in flight`, `${CYCLES} new Workers, bare shim, terminated after each run, ${IN_FLIGHT} in flight`],
    flood: [`a stdout flood, lines ${FLOOD_LINES} on a terminal (a write per line)`, 'bare shim, ConsoleStdout posts each write to the page'],
    bus: [`a bus flood, ${BUS_MESSAGES} messages of 64 bytes from one module to another`, 'two raw workers, a MessagePort message per message'],
    calls: [`a kernel-call flood, ${CALLS} process-list calls in a row from one module`, 'a raw worker asking the page, a postMessage each way per call'],
  };
  const rows: Row[] = [];
  for (const [id, r] of Object.entries(results)) {
    const [figure, baseline] = what[id] ?? [id, id];
    rows.push(
      row({ id: `stall.${id}.longtask`, figure: `${figure}: longest long task`, unit: 'ms', better: 'lower', webmk: r.webmk.jank.longestTask, baseline, raw: r.raw.jank.longestTask, note: '0 = no task over 50 ms' }),
      row({ id: `stall.${id}.gap`, figure: `${figure}: max setTimeout(0) gap`, unit: 'ms', better: 'lower', webmk: r.webmk.jank.maxTimeoutGap, baseline, raw: r.raw.jank.maxTimeoutGap }),
      row({ id: `stall.${id}.ms`, figure: `${figure}: time taken`, unit: 'ms', better: 'lower', webmk: r.webmk.ms, baseline, raw: r.raw.ms }),
    );
  }
  const detail = Object.fromEntries(Object.entries(results).map(([id, r]) => [id, { webmk: { ...r.webmk.jank, ms: round(r.webmk.ms) }, raw: { ...r.raw.jank, ms: round(r.raw.ms) } }]));
  return { rows, breakdown: [], detail: { ...detail, busDelivered } };
}
