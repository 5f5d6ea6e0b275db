/**
 * (a) spawn-to-exit of `hello`, and the worker pool's effect: warm (the same name ran before),
 * cold (a name never spawned), and a name first spawned once the idle pool is full.
 */
import type { Kernel, ModuleInfo } from '../../src/kernel';
import { benchKernel, finish, wasmModule } from '../lib/modules';
import { newRawWorker, runRaw } from '../lib/raw';
import { median, quantile, row, samples, type FigureResult } from '../lib/report';

const RUNS = 50;
const WARMUP = 10;
const COLD_NAMES = 20;

/** One webmk spawn of `name`: ms from `spawn()` to stdout drained and exit settled. */
async function spawnOnce(kernel: Kernel, name: string): Promise<{ total: number; spawned: number }> {
  const t0 = performance.now();
  const p = await kernel.spawn(name, { args: [] });
  const spawned = performance.now() - t0;
  const { stdout, code } = await finish(p);
  const total = performance.now() - t0;
  if (code !== 0 || !stdout.startsWith('hello, world')) throw new Error(`${name} ran wrong: code ${code}, ${JSON.stringify(stdout)}`);
  return { total, spawned };
}

async function webmkSeries(kernel: Kernel, name: string, n: number): Promise<{ total: number[]; spawned: number[] }> {
  const total: number[] = [];
  const spawned: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = await spawnOnce(kernel, name);
    total.push(s.total);
    spawned.push(s.spawned);
  }
  return { total, spawned };
}

/** The raw baseline: a new Worker per run, bare shim, the compiled module posted to it. */
async function rawNewWorker(module: WebAssembly.Module, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const w = newRawWorker();
    const r = await runRaw(w, { module, args: ['hello'], env: [], stdout: 'collect' });
    out.push(performance.now() - t0);
    w.terminate();
    if (r.code !== 0 || !r.stdout.startsWith('hello, world')) throw new Error('raw hello ran wrong');
  }
  return out;
}

/** The floor: one warm worker, the module already compiled; instantiate + run per message. */
async function rawWarm(module: WebAssembly.Module, n: number): Promise<number[]> {
  const w = newRawWorker();
  const out: number[] = [];
  try {
    for (let i = 0; i < WARMUP + n; i++) {
      const t0 = performance.now();
      await runRaw(w, { module, args: ['hello'], env: [], stdout: 'collect' });
      if (i >= WARMUP) out.push(performance.now() - t0);
    }
  } finally {
    w.terminate();
  }
  return out;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}

/**
 * Alternately: ms until `spawn()` of a name that is not installed rejects (the kernel's lookup
 * alone), and ms of one bare IndexedDB get of the same module record in a readonly transaction.
 */
async function lookups(kernel: Kernel, info: ModuleInfo, n: number): Promise<{ spawn: number[]; idb: number[] }> {
  const name = `bench-idb-${Date.now()}`;
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('modules', { keyPath: 'name' });
  const db = await request(open);
  const spawn: number[] = [];
  const idb: number[] = [];
  try {
    await request(db.transaction('modules', 'readwrite').objectStore('modules').put(info));
    for (let i = 0; i < WARMUP + n; i++) {
      const t0 = performance.now();
      const failed = await kernel.spawn('not-installed').then(
        () => false,
        () => true,
      );
      const t1 = performance.now();
      await request(db.transaction('modules', 'readonly').objectStore('modules').get(info.name));
      const t2 = performance.now();
      if (!failed) throw new Error('spawn of an unknown name did not reject');
      if (i >= WARMUP) {
        spawn.push(t1 - t0);
        idb.push(t2 - t1);
      }
    }
  } finally {
    db.close();
    indexedDB.deleteDatabase(name);
  }
  return { spawn, idb };
}

/** ms to allocate a process's three rings at the kernel's default sizes (256 KiB, 1 MiB, 64 KiB). */
function ringAllocations(n: number): number[] {
  const out: number[] = [];
  const keep: SharedArrayBuffer[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    keep.push(new SharedArrayBuffer(32 + 256 * 1024), new SharedArrayBuffer(32 + 1024 * 1024), new SharedArrayBuffer(32 + 64 * 1024));
    out.push(performance.now() - t0);
    if (keep.length > 30) keep.length = 0;
  }
  return out;
}

export async function spawnFigure(): Promise<FigureResult> {
  const module = await wasmModule('hello');
  const kernel = await benchKernel('spawn', [['hello', 'hello']]);
  let warm;
  let lookup;
  try {
    await webmkSeries(kernel, 'hello', WARMUP);
    warm = await webmkSeries(kernel, 'hello', RUNS);
    const info = (await kernel.modules()).find((m) => m.name === 'hello');
    if (info === undefined) throw new Error('hello is not installed');
    lookup = await lookups(kernel, info, RUNS);
  } finally {
    kernel.dispose();
  }
  await rawNewWorker(module, 5);
  const fresh = await rawNewWorker(module, RUNS);
  const floor = await rawWarm(module, RUNS);
  const rings = ringAllocations(RUNS);

  // Cold: every name new to the pool (same bytes, so compiling is cached; only the worker is new).
  // The pool then holds 8 idle workers (its total limit) of those names.
  const names = Array.from({ length: COLD_NAMES }, (_, i) => `cold-${i}`);
  const coldKernel = await benchKernel('cold', [['late', 'hello'], ...names.map((n): [string, string] => [n, 'hello'])]);
  const cold: number[] = [];
  let late;
  try {
    for (const n of names) cold.push((await spawnOnce(coldKernel, n)).total);
    // A name first spawned now: its first run is cold anyway; are the next ones warm?
    late = await webmkSeries(coldKernel, 'late', 21);
  } finally {
    coldKernel.dispose();
  }
  const lateWarm = late.total.slice(1);

  const p50 = median(warm.total);
  const rawP50 = median(fresh);
  const newWorker = 'new Worker + bare shim per run';
  return {
    rows: [
      row({ id: 'a.p50', figure: '(a) hello spawn-to-exit p50, warm', unit: 'ms', better: 'lower', webmk: p50, baseline: newWorker, raw: rawP50, target: { op: '<=', ratio: 0.05 } }),
      row({ id: 'a.p95', figure: '(a) hello spawn-to-exit p95, warm', unit: 'ms', better: 'lower', webmk: quantile(warm.total, 0.95), baseline: newWorker, raw: quantile(fresh, 0.95) }),
      row({ id: 'a.floor', figure: '(a) hello spawn-to-exit p50, warm', unit: 'ms', better: 'lower', webmk: p50, baseline: 'floor: warm worker, compiled module, instantiate+run', raw: median(floor) }),
      row({ id: 'pool.cold', figure: 'pool: cold name spawn-to-exit p50', unit: 'ms', better: 'lower', webmk: median(cold), baseline: newWorker, raw: rawP50, note: `${COLD_NAMES} names never spawned before (bytes already compiled: only the worker is new)` }),
      row({ id: 'pool.late', figure: 'pool: name first used once 8 others idle, runs 2-21 p50', unit: 'ms', better: 'lower', webmk: median(lateWarm), baseline: newWorker, raw: rawP50, note: `the idle pool is full: the worker idle longest makes room for this one; warm p50 is ${p50.toFixed(2)} ms` }),
    ],
    breakdown: [
      { id: 'a.spawn-call', what: 'warm hello: kernel.spawn() settles (before the module runs), p50', value: median(warm.spawned), unit: 'ms' },
      { id: 'a.after-spawn', what: 'warm hello: from spawn() settled to exit + stdout drained, p50', value: median(warm.total.map((t, i) => t - (warm.spawned[i] ?? 0))), unit: 'ms' },
      { id: 'a.lookup', what: 'kernel.spawn() of a name not installed rejects (the registry lookup path alone), p50', value: median(lookup.spawn), unit: 'ms' },
      { id: 'a.idb-get', what: 'one bare IndexedDB get of the same record, readonly transaction, measured alternately with the above, p50', value: median(lookup.idb), unit: 'ms' },
      { id: 'a.rings', what: 'allocating the three stdio rings (1.3 MiB of SharedArrayBuffer), p50', value: median(rings), unit: 'ms' },
    ],
    detail: {
      webmkWarm: samples(warm.total),
      webmkSpawnCall: samples(warm.spawned),
      rawNewWorker: samples(fresh),
      rawWarmFloor: samples(floor),
      idbGet: samples(lookup.idb),
      unknownSpawn: samples(lookup.spawn),
      ringAlloc: samples(rings),
      webmkCold: samples(cold),
      webmkLateName: samples(late.total),
    },
  };
}
