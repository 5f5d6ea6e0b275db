/**
 * Supervision: how soon a crashed process runs again under its restart policy, beside a warm
 * spawn of the same module and a fresh raw Worker; and how soon the watchdog ends a module that
 * computes without calling the system, beside the watchdog's own setting.
 */
import type { Kernel, ProcessState, StateChange } from '../../src/kernel';
import { benchKernel, drain, fixtureBytes, why } from '../lib/modules';
import { newRawWorker, runRaw } from '../lib/raw';
import { median, quantile, round, row, samples, type FigureResult, type Part } from '../lib/report';

/** Rounds of (warm spawns, trap restarts, exit-1 restarts), interleaved against drift. */
const ROUNDS = 3;
const PER_ROUND = 10;
const WARMUP = 10;
const WATCHDOG_RUNS = 7;
const WATCHDOGS = [200, 50];
/** A terminated worker spinning in wasm runs on for about 2 s: let it stop before the next run. */
const LEFTOVER_MS = 2500;
const WAIT_MS = 15_000;
/** Restarts without a wait and without a limit in reach. */
const RESTART = { restart: 'transient', intensity: 1000, periodMs: 60_000, backoff: { initialMs: 0 } } as const;

/** A statechange and the page time it was dispatched at. */
interface Change extends StateChange {
  at: number;
}

/** Every statechange of a kernel, timed as it is dispatched. */
class StateLog {
  private readonly changes: Change[] = [];
  private waiters: Array<() => void> = [];
  private readonly listener = (e: Event): void => {
    this.changes.push({ ...(e as CustomEvent<StateChange>).detail, at: performance.now() });
    for (const w of this.waiters.splice(0)) w();
  };

  constructor(private readonly kernel: Kernel) {
    kernel.addEventListener('statechange', this.listener);
  }

  /** The change of `pid` into `state` in `incarnation` (the first such if not given). */
  find(pid: number, state: ProcessState, incarnation?: number): Change | undefined {
    return this.changes.find((c) => c.pid === pid && c.state === state && (incarnation === undefined || c.incarnation === incarnation));
  }

  /** Waits for that change; rejects after 15 s saying where the process is. */
  async until(pid: number, state: ProcessState, incarnation?: number): Promise<Change> {
    const deadline = performance.now() + WAIT_MS;
    for (;;) {
      const c = this.find(pid, state, incarnation);
      if (c !== undefined) return c;
      if (performance.now() > deadline) throw new Error(`pid ${pid} never reached ${state} ${incarnation ?? ''} (${why(this.kernel, pid)})`);
      await new Promise<void>((ok) => {
        this.waiters.push(ok);
        setTimeout(ok, 1000);
      });
    }
  }

  stop(): void {
    this.kernel.removeEventListener('statechange', this.listener);
  }
}

/** A warm spawn of `crashy trap`: ms from `kernel.spawn()` to its `starting` and `running` changes. */
async function warmSpawn(kernel: Kernel, log: StateLog): Promise<{ starting: number; running: number }> {
  const t0 = performance.now();
  const p = await kernel.spawn('crashy', { args: ['trap'] });
  void drain(p.stdout);
  const running = await log.until(p.pid, 'running');
  const code = await p.exit;
  if (code !== 134) throw new Error(`crashy trap exited ${code} (${why(kernel, p.pid)})`);
  const starting = log.find(p.pid, 'starting');
  return { starting: (starting?.at ?? NaN) - t0, running: running.at - t0 };
}

/** One process restarted `n` times at once after each crash: per restart, ms from its `backoff` change. */
interface Restarts {
  /** `backoff` to the next incarnation's `running`. */
  running: number[];
  /** `backoff` to the next incarnation's `starting`. */
  starting: number[];
}

async function restartSeries(kernel: Kernel, log: StateLog, args: string[], reason: string, n: number): Promise<Restarts> {
  const p = await kernel.spawn('crashy', { args, restart: RESTART });
  void drain(p.stdout);
  await log.until(p.pid, 'running', n + 1);
  await p.kill();
  const out: Restarts = { running: [], starting: [] };
  for (let k = 1; k <= n; k++) {
    const backoff = log.find(p.pid, 'backoff', k);
    const starting = log.find(p.pid, 'starting', k + 1);
    const running = log.find(p.pid, 'running', k + 1);
    if (backoff === undefined || starting === undefined || running === undefined) throw new Error(`restart ${k} of crashy ${args.join(' ')} left no trace`);
    if (backoff.reason !== reason) throw new Error(`crashy ${args.join(' ')} ended ${backoff.reason}, not ${reason}`);
    out.running.push(running.at - backoff.at);
    out.starting.push(starting.at - backoff.at);
  }
  return out;
}

/** The raw baseline: a new Worker per run, the compiled module posted, run until it traps. */
async function rawFresh(module: WebAssembly.Module, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const w = newRawWorker();
    const r = await runRaw(w, { module, args: ['crashy', 'trap'], env: [], stdout: 'collect' });
    out.push(performance.now() - t0);
    w.terminate();
    if (r.code !== 134 || r.stdout !== 'trap') throw new Error(`raw crashy trap ran wrong: ${r.code} ${JSON.stringify(r.stdout)}`);
  }
  return out;
}

/** The floor: one raw worker kept after each trap; instantiate + run to the trap per message. */
async function rawWarm(module: WebAssembly.Module, n: number): Promise<number[]> {
  const w = newRawWorker();
  const out: number[] = [];
  try {
    for (let i = 0; i < WARMUP + n; i++) {
      const t0 = performance.now();
      await runRaw(w, { module, args: ['crashy', 'trap'], env: [], stdout: 'collect' });
      if (i >= WARMUP) out.push(performance.now() - t0);
    }
  } finally {
    w.terminate();
  }
  return out;
}

/** Resolves with the page time `s` first showed `text`; reads on to the end. */
function seen(s: ReadableStream<Uint8Array>, text: string): Promise<number> {
  return new Promise((ok, fail) => {
    void (async () => {
      const reader = s.getReader();
      const dec = new TextDecoder();
      let got = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return fail(new Error(`the stream ended before "${text}"`));
        got += dec.decode(value, { stream: true });
        if (got.includes(text)) ok(performance.now());
      }
    })();
  });
}

/** One `crashy spin` under a watchdog of `ms`: ms to its end from `running`, and from its "spin" line read. */
interface Expiry {
  fromRunning: number;
  fromLine: number;
  /** The stall the kernel reported in the exit message. */
  stalled: number;
}

async function watchdogOnce(kernel: Kernel, log: StateLog, ms: number): Promise<Expiry> {
  const p = await kernel.spawn('crashy', { args: ['spin'], watchdogMs: ms });
  const line = seen(p.stdout, 'spin');
  const running = await log.until(p.pid, 'running');
  const end = await log.until(p.pid, 'exited');
  if (end.reason !== 'watchdog-expired') throw new Error(`crashy spin ended ${end.reason} (${why(kernel, p.pid)})`);
  const lineAt = await line;
  const message = kernel.processes().find((x) => x.pid === p.pid)?.message ?? '';
  const stalled = /no system call for (\d+) ms/.exec(message);
  return { fromRunning: end.at - running.at, fromLine: end.at - lineAt, stalled: stalled === null ? NaN : Number(stalled[1]) };
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** The watchdog runs, alternating the settings, each after the last run's worker has stopped spinning. */
async function watchdogs(kernel: Kernel, log: StateLog): Promise<Map<number, Expiry[]>> {
  const out = new Map<number, Expiry[]>(WATCHDOGS.map((ms) => [ms, []]));
  for (let i = 0; i < WATCHDOG_RUNS; i++) {
    for (const ms of WATCHDOGS) {
      out.get(ms)?.push(await watchdogOnce(kernel, log, ms));
      await sleep(LEFTOVER_MS);
    }
  }
  return out;
}

export async function supervisionFigure(): Promise<FigureResult> {
  const module = await WebAssembly.compile((await fixtureBytes('crashy')) as Uint8Array<ArrayBuffer>);
  const kernel = await benchKernel('supervision', []);
  const log = new StateLog(kernel);
  const spawns = { starting: [] as number[], running: [] as number[] };
  const trap: Restarts = { running: [], starting: [] };
  const exit1: Restarts = { running: [], starting: [] };
  let expiries;
  try {
    await kernel.install(await fixtureBytes('crashy'), { name: 'crashy' });
    for (let i = 0; i < WARMUP; i++) await warmSpawn(kernel, log);
    await restartSeries(kernel, log, ['trap'], 'crashed', WARMUP);
    for (let r = 0; r < ROUNDS; r++) {
      // The last round's kill ended its worker: warm the pool again first.
      await warmSpawn(kernel, log);
      for (let i = 0; i < PER_ROUND; i++) {
        const s = await warmSpawn(kernel, log);
        spawns.starting.push(s.starting);
        spawns.running.push(s.running);
      }
      for (const [into, args, reason] of [[trap, ['trap'], 'crashed'], [exit1, ['exit', '1'], 'exited']] as const) {
        const s = await restartSeries(kernel, log, [...args], reason, PER_ROUND);
        into.running.push(...s.running);
        into.starting.push(...s.starting);
      }
    }
    expiries = await watchdogs(kernel, log);
  } finally {
    log.stop();
    kernel.dispose();
  }
  await rawFresh(module, 5);
  const fresh = await rawFresh(module, ROUNDS * PER_ROUND);
  const floor = await rawWarm(module, ROUNDS * PER_ROUND);

  const warm = 'warm spawn of crashy trap: kernel.spawn() to `running`';
  const restartRows = [
    row({ id: 'sup.restart.p50', figure: 'crash to restarted-and-running p50 (crashy trap, transient, backoff 0): `backoff` change to the next `running`', unit: 'ms', better: 'lower', webmk: median(trap.running), baseline: warm, raw: median(spawns.running), target: { op: '<=', ratio: 1.5 }, note: `${trap.running.length} restarts; the crash itself (trap, the worker's exit message) comes before \`backoff\` and is not in the interval` }),
    row({ id: 'sup.restart.p95', figure: 'crash to restarted-and-running p95 (crashy trap)', unit: 'ms', better: 'lower', webmk: quantile(trap.running, 0.95), baseline: warm, raw: quantile(spawns.running, 0.95) }),
    row({ id: 'sup.restart.exit1', figure: 'exit 1 to restarted-and-running p50 (crashy exit 1): `backoff` to the next `running`', unit: 'ms', better: 'lower', webmk: median(exit1.running), baseline: warm, raw: median(spawns.running) }),
    row({ id: 'sup.restart.raw', figure: 'crash to restarted-and-running p50 (crashy trap)', unit: 'ms', better: 'lower', webmk: median(trap.running), baseline: 'new Worker + bare shim, module posted, instantiate, run to the trap', raw: median(fresh), note: 'a page restarting a crashed module in a fresh Worker; webmk reuses the crashed incarnation\'s worker' }),
    row({ id: 'sup.restart.floor', figure: 'crash to restarted-and-running p50 (crashy trap)', unit: 'ms', better: 'lower', webmk: median(trap.running), baseline: 'floor: the same raw worker after its trap, instantiate + run to the trap', raw: median(floor) }),
  ];
  const watchdogRows = WATCHDOGS.map((ms) =>
    row({ id: `sup.watchdog.${ms}`, figure: `watchdog ${ms} ms detection (crashy spin): \`running\` change to \`exited\` watchdog-expired, median of ${WATCHDOG_RUNS}`, unit: 'ms', better: 'lower', webmk: median(expiries.get(ms)?.map((e) => e.fromRunning) ?? []), baseline: 'the configured watchdogMs', raw: ms, target: { op: '<=', ratio: 1.5 }, note: `covers the module's stdout write of "spin" (its last host call, made just after it reported \`running\`), the spin until the watchdog, sampling every ${Math.max(5, ms / 8)} ms, has seen no call for ${ms} ms (counted from the first sample that saw the write: up to one sampling period after it), the worker's terminate and the \`exited\` change; runs ${LEFTOVER_MS / 1000} s apart so the last terminated worker has stopped spinning` }),
  );
  const wdParts = WATCHDOGS.flatMap((ms): Part[] => {
    const e = expiries.get(ms) ?? [];
    return [
      { id: `sup.watchdog.${ms}.line`, what: `watchdog ${ms} ms: the "spin" line read on the page to \`exited\`, median`, value: median(e.map((x) => x.fromLine)), unit: 'ms' },
      { id: `sup.watchdog.${ms}.stalled`, what: `watchdog ${ms} ms: the stall the kernel reports in the exit message, median`, value: median(e.map((x) => x.stalled)), unit: 'ms' },
    ];
  });
  return {
    rows: [...restartRows, ...watchdogRows],
    breakdown: [
      { id: 'sup.spawn.starting', what: 'warm spawn: kernel.spawn() called to `starting` (lookup, rings), p50', value: median(spawns.starting), unit: 'ms' },
      { id: 'sup.spawn.instantiate', what: 'warm spawn: `starting` to `running` (the worker instantiates), p50', value: median(spawns.running.map((t, i) => t - (spawns.starting[i] ?? NaN))), unit: 'ms' },
      { id: 'sup.restart.starting', what: 'trap restart: `backoff` to `starting` (a 0 ms backoff and the scheduling), p50', value: median(trap.starting), unit: 'ms' },
      { id: 'sup.restart.instantiate', what: 'trap restart: `starting` to `running`, p50', value: median(trap.running.map((t, i) => t - (trap.starting[i] ?? NaN))), unit: 'ms' },
      ...wdParts,
    ],
    detail: {
      warmSpawnToRunning: samples(spawns.running),
      warmSpawnToStarting: samples(spawns.starting),
      trapRestartToRunning: samples(trap.running),
      trapRestartToStarting: samples(trap.starting),
      exit1RestartToRunning: samples(exit1.running),
      rawNewWorker: samples(fresh),
      rawWarmFloor: samples(floor),
      watchdog: Object.fromEntries(
        [...expiries].map(([ms, e]) => [ms, e.map((x) => ({ fromRunning: round(x.fromRunning), fromLine: round(x.fromLine), stalled: x.stalled }))]),
      ),
    },
  };
}
