/**
 * The key-value store: `kernel.kv.set` and `kernel.kv.get` of a 64-byte value beside a raw
 * IndexedDB put and get of the same value in a database of their own (one object store, one
 * transaction each), alternated call by call. Breakdown: set -> a page watcher called, and the
 * same for a 64 KiB value. And a round trip through a module: the page sets a key of group
 * `ping`, the kvpong fixture (blocked in `webmk_kv_next`) wakes and sets a key of group `pong`,
 * and a page watcher of `pong` is called: two commits and two notifications, beside a
 * MessagePort round trip to a raw worker.
 */
import { createKernel, type Kernel } from '../../src/kernel';
import { fixtureBytes } from '../lib/modules';
import { median, quantile, row, samples, type FigureResult } from '../lib/report';
import { rawEcho } from '../lib/raw';

const WARMUP = 30;
const RUNS = 300;

/** A raw IndexedDB store: put and get of one key, each its own transaction. */
async function rawStore(name: string): Promise<{ put(k: string, v: Uint8Array): Promise<void>; get(k: string): Promise<unknown>; close(): void }> {
  const db = await new Promise<IDBDatabase>((ok, fail) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  return {
    put: (k, v) =>
      new Promise((ok, fail) => {
        const tx = db.transaction('kv', 'readwrite');
        tx.objectStore('kv').put(v, k);
        tx.oncomplete = () => ok();
        tx.onerror = () => fail(tx.error);
      }),
    get: (k) =>
      new Promise((ok, fail) => {
        const r = db.transaction('kv', 'readonly').objectStore('kv').get(k);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      }),
    close: () => db.close(),
  };
}

/** Round trips page -> kvpong -> page through the store, alternated with MessagePort round trips. */
async function throughModule(kernel: Kernel, runs: number): Promise<{ store: number[]; raw: number[] }> {
  await kernel.install(await fixtureBytes('kvpong'), { name: 'kvpong', grant: 'all' });
  const p = await kernel.spawn('kvpong', { args: [String(runs + 10)] });
  await p.stdin.close();
  const reader = p.stdout.getReader();
  let out = '';
  while (!out.includes('watching')) {
    const { value, done } = await reader.read();
    if (done) throw new Error('kvpong ended before watching');
    out += new TextDecoder().decode(value);
  }
  void reader.cancel().catch(() => {});
  const echo = rawEcho();
  const store: number[] = [];
  const raw: number[] = [];
  try {
    for (let i = 0; i < runs + 10; i++) {
      let t0 = 0;
      const answered = new Promise<number>((ok) => {
        const stop = kernel.kv.watch('pong', () => {
          stop();
          ok(performance.now() - t0);
        });
      });
      t0 = performance.now();
      await kernel.kv.set('ping', `k${i}`, 'x');
      const ms = await answered;
      const r = await echo.once();
      if (i >= 10) {
        store.push(ms);
        raw.push(r);
      }
    }
  } finally {
    echo.close();
    await kernel.kill(p.pid).catch(() => {});
  }
  return { store, raw };
}

export async function kvFigure(): Promise<FigureResult> {
  const tag = `bench-kv-${Date.now()}`;
  const kernel = createKernel({ dbName: tag });
  await kernel.ready;
  const raw = await rawStore(`${tag}-raw`);
  const value = new Uint8Array(64).fill(7);
  const set: number[] = [];
  const rawPut: number[] = [];
  const get: number[] = [];
  const rawGet: number[] = [];
  const notified: number[] = [];
  const notifiedBig: number[] = [];
  let trip: { store: number[]; raw: number[] } = { store: [], raw: [] };
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const key = `k${i % 32}`;
      let t0 = performance.now();
      await kernel.kv.set('bench', key, value);
      const s = performance.now() - t0;
      t0 = performance.now();
      await raw.put(key, value);
      const rp = performance.now() - t0;
      t0 = performance.now();
      const got = await kernel.kv.get('bench', key);
      const g = performance.now() - t0;
      t0 = performance.now();
      await raw.get(key);
      const rg = performance.now() - t0;
      if (!(got instanceof Uint8Array) || got.length !== 64) throw new Error('kv.get gave something else');
      if (i >= WARMUP) {
        set.push(s);
        rawPut.push(rp);
        get.push(g);
        rawGet.push(rg);
      }
    }
    const big = new Uint8Array(64 * 1024).fill(1);
    for (const [bytes, out] of [[value, notified], [big, notifiedBig]] as const) {
      for (let i = 0; i < 100; i++) {
        let t0 = 0;
        const seen = new Promise<number>((ok) => {
          const stop = kernel.kv.watch('watched', () => {
            stop();
            ok(performance.now() - t0);
          });
        });
        t0 = performance.now();
        await kernel.kv.set('watched', 'k', bytes);
        out.push(await seen);
      }
    }
    trip = await throughModule(kernel, 200);
  } finally {
    raw.close();
    kernel.dispose();
  }
  const putBase = 'IndexedDB put of the same value (one store, one readwrite transaction)';
  const getBase = 'IndexedDB get of the same value (one readonly transaction)';
  return {
    rows: [
      row({ id: 'kv.set.p50', figure: 'kernel.kv.set of 64 bytes, committed, p50', unit: 'ms', better: 'lower', webmk: median(set), baseline: putBase, raw: median(rawPut), note: 'quota totals in the same transaction' }),
      row({ id: 'kv.set.p99', figure: 'kernel.kv.set of 64 bytes, committed, p99', unit: 'ms', better: 'lower', webmk: quantile(set, 0.99), baseline: putBase, raw: quantile(rawPut, 0.99) }),
      row({ id: 'kv.get.p50', figure: 'kernel.kv.get of 64 bytes, p50', unit: 'ms', better: 'lower', webmk: median(get), baseline: getBase, raw: median(rawGet) }),
      row({
        id: 'kv.module.p50',
        figure: 'page kv.set -> a module woken in webmk_kv_next sets a key -> page watcher called, p50',
        unit: 'ms',
        better: 'lower',
        webmk: median(trip.store),
        baseline: 'postMessage round trip to a raw worker (MessagePort echo)',
        raw: median(trip.raw),
        note: 'two IndexedDB commits and two notifications',
      }),
    ],
    breakdown: [
      { id: 'kv.notify.p50', what: 'kv.set of 64 bytes -> page watcher called, p50', value: median(notified), unit: 'ms' },
      { id: 'kv.notify64k.p50', what: 'kv.set of 64 KiB -> page watcher called, p50', value: median(notifiedBig), unit: 'ms' },
    ],
    detail: { trip: samples(trip.store), tripRaw: samples(trip.raw), set: samples(set), rawPut: samples(rawPut), get: samples(get), rawGet: samples(rawGet), notified: samples(notified) },
  };
}
