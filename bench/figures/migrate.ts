/**
 * migrate (ADR 0019): what "migratable" costs and what parking buys. The Asyncify transform's
 * size and throughput cost on `cat` and `wc` (64 MiB through stdin), beside the same modules not
 * instrumented; hibernate and resume of an interactive process holding 256 KiB and 64 MiB of
 * memory, beside a raw IndexedDB put and get of the same bytes and beside a fresh spawn; the
 * pause a move to a fresh worker puts between a line written and its answer, beside that
 * answer's time without a move.
 */
import type { Kernel, Process } from '../../src/kernel';
import { benchKernel, drain, fixtureBytes, wasmBytes } from '../lib/modules';
import { median, round, row, samples, type FigureResult, type Part, type Row } from '../lib/report';
import { memoryProbe, memoryRows, pastTheWall, type MemoryProbe } from './migrate-memory';

const MiB = 1024 * 1024;
const STREAM = 64 * MiB;
const CHUNK = MiB;
const RUNS = 5;
const CYCLES = 5;

/** Runs `name` with `bytes` bytes on stdin, fed a MiB at a time; ms to its exit. */
async function throughput(kernel: Kernel, name: string, bytes: number): Promise<number> {
  const chunk = new Uint8Array(CHUNK);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 61 === 60 ? 10 : 97 + (i % 26);
  const t0 = performance.now();
  const p = await kernel.spawn(name);
  const feeding = (async () => {
    const w = p.stdin.getWriter();
    for (let sent = 0; sent < bytes; sent += CHUNK) await w.write(chunk);
    await w.close();
  })();
  const [, , code] = await Promise.all([feeding, drain(p.stdout), p.exit]);
  if (code !== 0) throw new Error(`${name}: exit ${code}`);
  return performance.now() - t0;
}

/** A running accum with its stdin writer and a way to wait for its next answer. */
interface Session {
  p: Process;
  w: WritableStreamDefaultWriter<Uint8Array>;
  next(): Promise<string>;
}

async function session(kernel: Kernel, mib: number): Promise<Session> {
  const p = await kernel.spawn('accum', { args: mib > 0 ? [String(mib)] : [] });
  const reader = p.stdout.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const next = async (): Promise<string> => {
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('accum ended');
      buf += dec.decode(value, { stream: true });
    }
  };
  if ((await next()) !== 'ready') throw new Error('accum did not start');
  return { p, w: p.stdin.getWriter(), next };
}

/** ms from a line written to its answer read. */
async function roundTrip(s: Session, v: number): Promise<number> {
  const t0 = performance.now();
  await s.w.write(new TextEncoder().encode(`${v}\n`));
  await s.next();
  return performance.now() - t0;
}

function openRaw(name: string): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((ok, fail) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('s');
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
}

/**
 * A raw IndexedDB put and get of `bytes` bytes in a database of its own: ms each. The get is
 * made on a connection opened after the put's was closed, as a resume reads what a hibernation
 * wrote a while before (a get right after the put is served much faster).
 */
async function rawIdb(bytes: number): Promise<{ put: number; get: number }> {
  const name = `bench-raw-idb-${Date.now()}`;
  let db = await openRaw(name);
  const data = new Uint8Array(bytes).fill(1);
  const t0 = performance.now();
  await new Promise<void>((ok, fail) => {
    const tx = db.transaction('s', 'readwrite');
    tx.objectStore('s').put({ memory: data }, 1);
    tx.oncomplete = () => ok();
    tx.onerror = () => fail(tx.error);
  });
  const t1put = performance.now();
  db.close();
  db = await openRaw(name);
  const t1 = performance.now();
  await new Promise<void>((ok, fail) => {
    const req = db.transaction('s').objectStore('s').get(1);
    req.onsuccess = () => ok();
    req.onerror = () => fail(req.error);
  });
  const t2 = performance.now();
  db.close();
  indexedDB.deleteDatabase(name);
  return { put: t1put - t0, get: t2 - t1 };
}

/** Hibernate, resume and move times for an accum holding `mib` MiB more than it needs. */
async function parking(kernel: Kernel, mib: number) {
  const hib: number[] = [];
  const res: number[] = [];
  const move: number[] = [];
  const still: number[] = [];
  const spawn: number[] = [];
  /** Of each resume, the time until it starts (the snapshot read back): the rest is the start. */
  const read: number[] = [];
  /** Through CDP, before each hibernation (running) and after it (hibernated). */
  const memBefore: MemoryProbe[] = [];
  const memAfter: MemoryProbe[] = [];
  const probe = memoryProbe();
  // The renderer before the process exists: what a hibernated one leaves is measured against it.
  const baseline = probe !== undefined ? await probe() : undefined;
  const s = await session(kernel, mib);
  let bytes = 0;
  try {
    for (let i = 0; i < CYCLES; i++) {
      still.push(await roundTrip(s, i));
      if (probe !== undefined) memBefore.push(await probe());
      let t0 = performance.now();
      await kernel.hibernate(s.p.pid);
      hib.push(performance.now() - t0);
      if (probe !== undefined) memAfter.push(await probe());
      bytes = kernel.processes().find((p) => p.pid === s.p.pid)?.snapshotBytes ?? 0;
      t0 = performance.now();
      let resuming = NaN;
      const on = (e: Event): void => {
        const d = (e as CustomEvent<{ pid: number; state: string }>).detail;
        if (d.pid === s.p.pid && d.state === 'resuming') resuming = performance.now() - t0;
      };
      kernel.addEventListener('statechange', on);
      await kernel.resume(s.p.pid);
      kernel.removeEventListener('statechange', on);
      res.push(performance.now() - t0);
      read.push(resuming);
      // The pause of a move: from the request to the answer of a line written with it.
      t0 = performance.now();
      const moving = kernel.setMode(s.p.pid, 'worker');
      await s.w.write(new TextEncoder().encode(`${i}\n`));
      await s.next();
      move.push(performance.now() - t0);
      await moving;
    }
    for (let i = 0; i < CYCLES; i++) {
      const t0 = performance.now();
      const f = await session(kernel, mib);
      spawn.push(performance.now() - t0);
      await f.p.kill();
    }
  } finally {
    await s.p.kill();
  }
  const idb: Array<{ put: number; get: number }> = [];
  for (let i = 0; i < CYCLES; i++) idb.push(await rawIdb(bytes));
  return { hib, res, read, move, still, spawn, bytes, put: idb.map((x) => x.put), get: idb.map((x) => x.get), memBefore, memAfter, baseline };
}

export async function migrateFigure(): Promise<FigureResult> {
  const kernel = await benchKernel('migrate', [
    ['cat', 'cat'],
    ['wc', 'wc'],
  ]);
  const rows: Row[] = [];
  const breakdown: Part[] = [];
  const detail: Record<string, unknown> = {};
  try {
    for (const name of ['cat', 'wc']) {
      const t0 = performance.now();
      const info = await kernel.install(await wasmBytes(name), { name: `${name}-mig`, migratable: true });
      const transformMs = performance.now() - t0;
      if (Array.isArray(info) || info.migratable === undefined) throw new Error(`${name}: not made migratable`);
      rows.push(
        row({ id: `${name}.size`, figure: `${name}: size, migratable`, unit: 'B', better: 'lower', webmk: info.migratable.size, baseline: 'the same module not instrumented', raw: info.size }),
      );
      breakdown.push({ id: `${name}.transform`, what: `${name}: install with { migratable: true } (the Asyncify pass in a worker)`, value: transformMs, unit: 'ms' });
      await throughput(kernel, name, 4 * MiB);
      await throughput(kernel, `${name}-mig`, 4 * MiB);
      const plain: number[] = [];
      const mig: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        plain.push(await throughput(kernel, name, STREAM));
        mig.push(await throughput(kernel, `${name}-mig`, STREAM));
      }
      const mbps = (ms: number[]) => STREAM / 1e6 / (median(ms) / 1000);
      rows.push(row({ id: `${name}.mbps`, figure: `${name} 64 MiB through stdin, migratable`, unit: 'MB/s', better: 'higher', webmk: mbps(mig), baseline: 'the same module not instrumented', raw: mbps(plain) }));
      detail[name] = { plain: samples(plain), migratable: samples(mig), transformMs: round(transformMs) };
    }
    await kernel.install(await fixtureBytes('accum'), { name: 'accum', migratable: true });
    for (const [label, mib] of [
      ['256k', 0],
      ['64m', 64],
    ] as const) {
      const r = await parking(kernel, mib);
      const what = `${Math.round(r.bytes / 1024)} KiB of memory`;
      rows.push(
        row({ id: `hibernate.${label}`, figure: `hibernate (${what})`, unit: 'ms', better: 'lower', webmk: median(r.hib), baseline: 'IndexedDB put of the same bytes', raw: median(r.put) }),
        row({ id: `resume.${label}`, figure: `resume (${what})`, unit: 'ms', better: 'lower', webmk: median(r.res), baseline: 'a fresh spawn to its first output', raw: median(r.spawn) }),
        row({ id: `resume-idb.${label}`, figure: `resume (${what})`, unit: 'ms', better: 'lower', webmk: median(r.res), baseline: 'IndexedDB get of the same bytes', raw: median(r.get) }),
        row({ id: `move.${label}`, figure: `move to a fresh worker: line to answer (${what})`, unit: 'ms', better: 'lower', webmk: median(r.move), baseline: 'line to answer, not moving', raw: median(r.still) }),
      );
      breakdown.push(
        { id: `resume.${label}.read`, what: `resume (${what}): reading the snapshot back, until it starts`, value: median(r.read), unit: 'ms' },
        { id: `resume.${label}.start`, what: `resume (${what}): starting from it, until it runs`, value: median(r.res) - median(r.read), unit: 'ms' },
      );
      if (r.memBefore.length > 0) {
        const m = memoryRows(label, what, r.memBefore, r.memAfter, r.bytes, r.baseline);
        rows.push(...m.rows);
        breakdown.push(...m.breakdown);
        detail[`memory-${label}`] = { before: r.memBefore, after: r.memAfter };
      }
      detail[`park-${label}`] = { memoryBytes: r.bytes, read: samples(r.read), hibernate: samples(r.hib), resume: samples(r.res), move: samples(r.move), still: samples(r.still), spawn: samples(r.spawn), put: samples(r.put), get: samples(r.get) };
    }
    const wall = await pastTheWall(kernel);
    rows.push(...wall.rows);
    breakdown.push(...wall.breakdown);
    detail.pastTheWall = wall.detail;
  } finally {
    kernel.dispose();
  }
  return { rows, breakdown, detail };
}
