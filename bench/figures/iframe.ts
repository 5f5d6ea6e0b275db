/**
 * The `iframe` execution mode: spawn-to-exit cold (the container frame made) and warm, beside a
 * raw new sandboxed frame with a bare-shim worker in it and the same spawn in worker mode; stdio
 * throughput through `cat` in the frame, beside worker mode and a raw MessagePort echo through a
 * worker in a frame; a pipe with a stage in the frame, beside the same pipe all in workers.
 */
import type { ExecutionMode, Kernel, PipelineStage, StateChange } from '../../src/kernel';
import { echoRun, openEchoFrame, rawFrameRun, rawWorkerCode } from '../lib/frame';
import { benchKernel, drain, finish, fixtureBytes, wasmBytes } from '../lib/modules';
import { median, quantile, round, row, samples, type FigureResult } from '../lib/report';
import { catRun, payload } from './stdin';

const WARMUP = 10;
const WARM_RUNS = 30;
/** Fresh kernels (each makes its container), alternating with as many raw new frames. */
const COLD_RUNS = 7;
const MiB = 1024 * 1024;
const CAT_SIZE = 16 * MiB;
const CAT_RUNS = 3;
/** The raw echo's pieces: the iframe host's stdio chunk size. */
const ECHO_CHUNK = 256 * 1024;
/** The iframe host's window of unacknowledged stdio bytes. */
const ECHO_WINDOW = 512 * 1024;
const PIPE_SIZE = 64 * MiB;
const PIPE_WRITE = 65536;
const PIPE_RUNS = 3;

/** The modes compared here. */
type Mode = 'iframe' | 'worker';

/** The page time of each process's state changes. */
class Changes {
  private readonly at = new Map<string, number>();
  private readonly listener = (e: Event): void => {
    const d = (e as CustomEvent<StateChange>).detail;
    const key = `${d.pid}/${d.state}`;
    if (!this.at.has(key)) this.at.set(key, performance.now());
  };

  constructor(private readonly kernel: Kernel) {
    kernel.addEventListener('statechange', this.listener);
  }

  when(pid: number, state: StateChange['state']): number {
    return this.at.get(`${pid}/${state}`) ?? NaN;
  }

  stop(): void {
    this.kernel.removeEventListener('statechange', this.listener);
  }
}

/** One spawn-to-exit, and where its time went (ms from `kernel.spawn()`). */
interface Spawn {
  total: number;
  /** `spawn()` settled. */
  spawned: number;
  /** The `running` change dispatched. */
  running: number;
}

async function spawnOnce(kernel: Kernel, changes: Changes, mode: ExecutionMode): Promise<Spawn> {
  const t0 = performance.now();
  const p = await kernel.spawn('hello', { mode });
  const spawned = performance.now() - t0;
  const { stdout, code } = await finish(p);
  const total = performance.now() - t0;
  if (code !== 0 || !stdout.startsWith('hello, world')) throw new Error(`hello (${mode}) ran wrong: code ${code}, ${JSON.stringify(stdout)}`);
  return { total, spawned, running: changes.when(p.pid, 'running') - t0 };
}

/** A cold spawn, and when (ms from `kernel.spawn()`) its container frame was appended and its script said it had loaded. */
interface Cold extends Spawn {
  appended: number;
  loaded: number;
}

/**
 * The first iframe spawn of a fresh kernel: the container frame is made for it. The frame's
 * insertion and its `loaded` message to the page are watched from outside the kernel.
 */
async function coldOnce(): Promise<Cold> {
  const kernel = await benchKernel('iframe-cold', [['hello', 'hello']]);
  const changes = new Changes(kernel);
  let frame: HTMLIFrameElement | null = null;
  let appended = NaN;
  let loaded = NaN;
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n instanceof HTMLIFrameElement && frame === null) {
          frame = n;
          appended = performance.now();
        }
      }
    }
  });
  const onMessage = (e: MessageEvent<{ type?: unknown } | null>): void => {
    if (frame !== null && e.source === frame.contentWindow && e.data?.type === 'loaded' && Number.isNaN(loaded)) loaded = performance.now();
  };
  observer.observe(document.body, { childList: true });
  window.addEventListener('message', onMessage);
  try {
    const t0 = performance.now();
    const s = await spawnOnce(kernel, changes, 'iframe');
    return { ...s, appended: appended - t0, loaded: loaded - t0 };
  } finally {
    observer.disconnect();
    window.removeEventListener('message', onMessage);
    changes.stop();
    kernel.dispose();
  }
}

/** One raw new-frame run: ms to the end, and to the frame's script saying it had loaded. */
async function rawFrameOnce(code: string, bytes: Uint8Array): Promise<{ total: number; loaded: number }> {
  const t0 = performance.now();
  const r = await rawFrameRun(code, bytes, ['hello']);
  const total = performance.now() - t0;
  if (r.code !== 0 || !r.stdout.startsWith('hello, world')) throw new Error(`raw frame hello ran wrong: ${r.code} ${JSON.stringify(r.stdout)}`);
  return { total, loaded: r.loadedAt - t0 };
}

/** Only stdin: `cat` with its stdout cancelled. */
async function stdinOnlyRun(kernel: Kernel, data: Uint8Array, mode: ExecutionMode): Promise<number> {
  const t0 = performance.now();
  const p = await kernel.spawn('cat', { stdin: data, mode });
  await p.stdout.cancel();
  const code = await p.exit;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`cat (${mode}), stdout cancelled: code ${code}`);
  return ms;
}

/** MiB/s of `zero | cat | sink`, cat in `mode`. */
async function pipeRun(kernel: Kernel, mode: ExecutionMode): Promise<number> {
  const stages: PipelineStage[] = [
    { name: 'pipetool', args: ['zero', String(PIPE_SIZE), String(PIPE_WRITE)] },
    { name: 'cat', mode },
    { name: 'pipetool', args: ['sink'] },
  ];
  const t0 = performance.now();
  const procs = await kernel.pipeline(stages);
  const last = procs[2];
  if (last === undefined) throw new Error('three stages');
  const [out, ...codes] = await Promise.all([drain(last.stdout, true), ...procs.map((p) => p.exit)]);
  const ms = performance.now() - t0;
  const printed = out.chunks.map((c) => new TextDecoder().decode(c)).join('');
  if (Number(printed.trim()) !== PIPE_SIZE || codes.some((c) => c !== 0)) throw new Error(`zero | cat(${mode}) | sink: codes ${codes.join(' ')}, sink counted ${printed}`);
  return PIPE_SIZE / MiB / (ms / 1000);
}

const mibPerSecond = (bytes: number, ms: number[]): number => bytes / MiB / (median(ms) / 1000);

export async function iframeFigure(): Promise<FigureResult> {
  const hello = await wasmBytes('hello');
  const code = await rawWorkerCode();

  // Cold: fresh kernels and new raw frames, alternating, after one of each not counted.
  await rawFrameOnce(code, hello);
  const firstCold = await coldOnce();
  const cold: Cold[] = [];
  const rawFrames: Array<{ total: number; loaded: number }> = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    // Which goes first alternates: each may find the other's frame just removed.
    if (i % 2 === 1) rawFrames.push(await rawFrameOnce(code, hello));
    cold.push(await coldOnce());
    if (i % 2 === 0) rawFrames.push(await rawFrameOnce(code, hello));
  }
  const rawFrame = rawFrames.map((r) => r.total);

  // Warm: one kernel, iframe and worker spawns alternating once both pools are warm.
  const kernel = await benchKernel('iframe', [['hello', 'hello'], ['cat', 'cat']]);
  await kernel.install(await fixtureBytes('pipetool'), { name: 'pipetool' });
  const changes = new Changes(kernel);
  const warm: Record<Mode, Spawn[]> = { iframe: [], worker: [] };
  const data = payload(CAT_SIZE);
  const cat: Record<Mode, number[]> = { iframe: [], worker: [] };
  const reads: Record<Mode, number[]> = { iframe: [], worker: [] };
  const stdinOnly: Record<Mode, number[]> = { iframe: [], worker: [] };
  const pipe: Record<Mode, number[]> = { iframe: [], worker: [] };
  const modes: Mode[] = ['iframe', 'worker'];
  try {
    for (let i = 0; i < WARMUP; i++) for (const m of modes) await spawnOnce(kernel, changes, m);
    for (let i = 0; i < WARM_RUNS; i++) for (const m of modes) warm[m].push(await spawnOnce(kernel, changes, m));

    for (const m of modes) {
      await catRun(kernel, data.subarray(0, MiB), true, m);
      await stdinOnlyRun(kernel, data.subarray(0, MiB), m);
    }
    for (let i = 0; i < CAT_RUNS; i++) {
      for (const m of modes) {
        const r = await catRun(kernel, data, i === 0, m);
        cat[m].push(r.ms);
        reads[m].push(r.reads);
        stdinOnly[m].push(await stdinOnlyRun(kernel, data, m));
      }
    }

    for (const m of modes) await pipeRun(kernel, m);
    for (let i = 0; i < PIPE_RUNS; i++) for (const m of modes) pipe[m].push(await pipeRun(kernel, m));
  } finally {
    changes.stop();
    kernel.dispose();
  }

  // The raw echo through a worker in a frame, everything posted at once and windowed like the
  // host; and one way (the worker answers each chunk's byte count), windowed and not.
  const echo = await openEchoFrame();
  const echoAll: number[] = [];
  const echoWindowed: number[] = [];
  const oneWayAll: number[] = [];
  const oneWayWindowed: number[] = [];
  try {
    await echoRun(echo.port, data, ECHO_CHUNK, Infinity, 'echo', true);
    await echoRun(echo.port, data, ECHO_CHUNK, ECHO_WINDOW, 'echo', true);
    await echoRun(echo.port, data, ECHO_CHUNK, ECHO_WINDOW, 'ack');
    for (let i = 0; i < CAT_RUNS; i++) {
      echoAll.push(await echoRun(echo.port, data, ECHO_CHUNK, Infinity, 'echo'));
      echoWindowed.push(await echoRun(echo.port, data, ECHO_CHUNK, ECHO_WINDOW, 'echo'));
      oneWayAll.push(await echoRun(echo.port, data, ECHO_CHUNK, Infinity, 'ack'));
      oneWayWindowed.push(await echoRun(echo.port, data, ECHO_CHUNK, ECHO_WINDOW, 'ack'));
    }
  } finally {
    echo.port.close();
    echo.frame.remove();
  }

  const total = (xs: Spawn[]): number[] => xs.map((s) => s.total);
  const newFrame = 'new sandboxed srcdoc frame + classic blob: worker in it, bare shim, worker code and wasm bytes posted in, compile, run, output posted back';
  const spawnFigure = 'spawn-to-exit of hello, iframe mode';
  const catFigure = `stdio ${CAT_SIZE / MiB} MiB through cat in iframe mode, in and out through the page`;
  const pipeFigure = `pipe: pipetool zero ${PIPE_SIZE / MiB} MiB in ${PIPE_WRITE / 1024} KiB writes | cat (iframe) | pipetool sink`;
  const catRate = (m: Mode): number => mibPerSecond(CAT_SIZE, cat[m]);
  return {
    rows: [
      row({ id: 'iframe.cold', figure: `${spawnFigure}, cold: first spawn of a fresh kernel, container frame made (median of ${COLD_RUNS})`, unit: 'ms', better: 'lower', webmk: median(total(cold)), baseline: newFrame, raw: median(rawFrame), note: `fresh kernels and raw new frames alternate (which goes first alternates too), each frame removed before the next; the cold spawn also fetches the container's two scripts (HTTP cache) and sends the module's bytes; the first cold spawn of the run, not counted: ${firstCold.total.toFixed(1)} ms` }),
      row({ id: 'iframe.cold.frame', figure: 'cold iframe spawn: container frame appended to its script\'s `loaded` message on the page (a renderer, the document, the inline module script), median', unit: 'ms', better: 'lower', webmk: median(cold.map((s) => s.loaded - s.appended)), baseline: 'raw new frame: appended to its inline script\'s `loaded` message', raw: median(rawFrames.map((r) => r.loaded)) }),
      row({ id: 'iframe.cold.start', figure: 'cold iframe spawn: `loaded` to stdout read to the end and exit settled (boot message with the process runtime\'s script, blob: worker, hello compiled in the frame, run, output relayed), median', unit: 'ms', better: 'lower', webmk: median(cold.map((s) => s.total - s.loaded)), baseline: 'raw new frame: `loaded` to the output posted back (blob: worker, compile, run)', raw: median(rawFrames.map((r) => r.total - r.loaded)) }),
      row({ id: 'iframe.warm.p50', figure: `${spawnFigure}, warm p50 (${WARM_RUNS} after ${WARMUP})`, unit: 'ms', better: 'lower', webmk: median(total(warm.iframe)), baseline: newFrame, raw: median(rawFrame), target: { op: '<=', ratio: 0.1 } }),
      row({ id: 'iframe.warm.p95', figure: `${spawnFigure}, warm p95`, unit: 'ms', better: 'lower', webmk: quantile(total(warm.iframe), 0.95), baseline: `${newFrame}, p95`, raw: quantile(rawFrame, 0.95) }),
      row({ id: 'iframe.warm.worker.p50', figure: `${spawnFigure}, warm p50`, unit: 'ms', better: 'lower', webmk: median(total(warm.iframe)), baseline: 'the same spawn in worker mode, warm p50 (alternating with the iframe spawns)', raw: median(total(warm.worker)) }),
      row({ id: 'iframe.warm.worker.p95', figure: `${spawnFigure}, warm p95`, unit: 'ms', better: 'lower', webmk: quantile(total(warm.iframe), 0.95), baseline: 'the same spawn in worker mode, warm p95', raw: quantile(total(warm.worker), 0.95) }),
      row({ id: 'iframe.cat.worker', figure: catFigure, unit: 'MiB/s', better: 'higher', webmk: catRate('iframe'), baseline: 'the same through cat in worker mode', raw: catRate('worker') }),
      row({ id: 'iframe.cat.echo', figure: catFigure, unit: 'MiB/s', better: 'higher', webmk: catRate('iframe'), baseline: `raw MessagePort echo page -> worker in a sandboxed frame -> page, ${ECHO_CHUNK / 1024} KiB chunks (each a copy, transferred both ways), all posted at once`, raw: mibPerSecond(CAT_SIZE, echoAll), note: 'the port is handed to the frame\'s worker, so the frame\'s main thread is not in the raw path; webmk\'s is (page <-> frame script <-> rings <-> worker)' }),
      row({ id: 'iframe.cat.echo.windowed', figure: catFigure, unit: 'MiB/s', better: 'higher', webmk: catRate('iframe'), baseline: `the same raw echo with at most ${ECHO_WINDOW / 1024} KiB out at once (the iframe host's window)`, raw: mibPerSecond(CAT_SIZE, echoWindowed) }),
      row({ id: 'iframe.stdin', figure: `stdin only: ${CAT_SIZE / MiB} MiB into cat in iframe mode, its stdout cancelled`, unit: 'MiB/s', better: 'higher', webmk: mibPerSecond(CAT_SIZE, stdinOnly.iframe), baseline: `raw one way page -> worker in a sandboxed frame, ${ECHO_CHUNK / 1024} KiB chunks, the worker answering each chunk's byte count, at most ${ECHO_WINDOW / 1024} KiB unanswered (the host's stdin protocol without the rings)`, raw: mibPerSecond(CAT_SIZE, oneWayWindowed) }),
      row({ id: 'iframe.pipe', figure: pipeFigure, unit: 'MiB/s', better: 'higher', webmk: round(median(pipe.iframe), 0), baseline: 'the same pipeline, cat in worker mode (no page in the loop)', raw: round(median(pipe.worker), 0), note: 'the iframe stage\'s stdin and stdout cross the page: the page relays between the kernel\'s pipe rings and the frame' }),
    ],
    breakdown: [
      { id: 'iframe.cold.spawned', what: 'cold iframe spawn: spawn() settled, median', value: median(cold.map((s) => s.spawned)), unit: 'ms' },
      { id: 'iframe.cold.appended', what: 'cold iframe spawn: spawn() to the container frame appended (the kernel fetched its two scripts), median', value: median(cold.map((s) => s.appended)), unit: 'ms' },
      { id: 'iframe.cold.boot', what: 'cold iframe spawn: `loaded` to `running` (boot, blob: worker, hello compiled in the frame, started), median', value: median(cold.map((s) => s.running - s.loaded)), unit: 'ms' },
      { id: 'iframe.cold.tail', what: 'cold iframe spawn: `running` to stdout read to the end and exit settled, median', value: median(cold.map((s) => s.total - s.running)), unit: 'ms' },
      { id: 'iframe.warm.spawned', what: 'warm iframe spawn: spawn() settled, p50', value: median(warm.iframe.map((s) => s.spawned)), unit: 'ms' },
      { id: 'iframe.warm.running', what: 'warm iframe spawn: spawn() to `running`, p50', value: median(warm.iframe.map((s) => s.running)), unit: 'ms' },
      { id: 'iframe.warm.tail', what: 'warm iframe spawn: `running` to stdout read to the end and exit settled, p50', value: median(warm.iframe.map((s) => s.total - s.running)), unit: 'ms' },
      { id: 'worker.warm.running', what: 'warm worker spawn: spawn() to `running`, p50', value: median(warm.worker.map((s) => s.running)), unit: 'ms' },
      { id: 'worker.warm.tail', what: 'warm worker spawn: `running` to stdout read to the end and exit settled, p50', value: median(warm.worker.map((s) => s.total - s.running)), unit: 'ms' },
      { id: 'worker.cat.stdin-only', what: `stdin only: ${CAT_SIZE / MiB} MiB into cat in worker mode, its stdout cancelled`, value: mibPerSecond(CAT_SIZE, stdinOnly.worker), unit: 'MiB/s' },
      { id: 'iframe.cat.reads', what: 'cat in iframe mode: stdout reads the page made per run, median', value: median(reads.iframe), unit: 'reads' },
    ],
    detail: {
      coldMs: samples(total(cold)),
      coldFirstMs: round(firstCold.total),
      coldRunningMs: samples(cold.map((s) => s.running)),
      coldAppendedMs: samples(cold.map((s) => s.appended)),
      coldLoadedMs: samples(cold.map((s) => s.loaded)),
      rawNewFrameMs: samples(rawFrame),
      rawNewFrameLoadedMs: samples(rawFrames.map((r) => r.loaded)),
      warmIframeMs: samples(total(warm.iframe)),
      warmIframeRunningMs: samples(warm.iframe.map((s) => s.running)),
      warmWorkerMs: samples(total(warm.worker)),
      warmWorkerRunningMs: samples(warm.worker.map((s) => s.running)),
      catMs: { iframe: samples(cat.iframe), worker: samples(cat.worker) },
      stdinOnlyMs: { iframe: samples(stdinOnly.iframe), worker: samples(stdinOnly.worker) },
      catReads: reads,
      echoMs: { all: samples(echoAll), windowed: samples(echoWindowed), oneWayAll: samples(oneWayAll), oneWayWindowed: samples(oneWayWindowed) },
      oneWayAllMiBps: round(mibPerSecond(CAT_SIZE, oneWayAll), 1),
      pipeMiBps: { iframe: pipe.iframe.map((x) => round(x, 1)), worker: pipe.worker.map((x) => round(x, 1)) },
      verified: 'cat: byte count every run, bytes on the first run of each mode; echo: bytes on the warm-up runs; sink: byte count every run',
    },
  };
}
