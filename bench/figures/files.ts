/**
 * files: a module's home (OPFS, `mounts: { '/home': 'home' }`) and the in-memory file system,
 * each beside the raw primitive: an OPFS sync access handle in a plain worker, a memcpy.
 */
import type { Kernel } from '../../src/kernel';
import type { OpfsReply, OpfsRequest } from '../opfs-worker';
import { drain, finish, fixtureBytes } from '../lib/modules';
import { createKernel } from '../../src/kernel';
import { median, round, row, samples, type FigureResult } from '../lib/report';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = MiB;
/** Tried largest first; the first that writes and reads back whole is measured. */
const HOME_SIZES = [64 * MiB, 16 * MiB, 4 * MiB, MiB, 128 * KiB];
const TMP_SIZE = 64 * MiB;
const SMALL = 200;
const RUNS = 3;
const TIMEOUT_MS = 120_000;

interface Line {
  op: string;
  count: number;
  ms: number;
  ok: boolean;
}

/** Runs `fsbench args`; returns its lines ("op count ms [ok|bad]"), or throws with its stderr. */
async function fsbench(kernel: Kernel, name: string, args: string[], mounts: Record<string, 'tmp' | 'home'>): Promise<{ lines: Line[]; wallMs: number }> {
  const t0 = performance.now();
  const p = await kernel.spawn(name, { args, mounts });
  const timer = setTimeout(() => void p.kill(), TIMEOUT_MS);
  try {
    const [out, err] = await Promise.all([finish(p), drain(p.stderr, true)]);
    const wallMs = performance.now() - t0;
    if (out.code !== 0) {
      const text = new TextDecoder().decode(new Uint8Array(err.chunks.flatMap((c) => [...c])));
      throw new Error(`fsbench ${args.join(' ')}: code ${out.code}: ${text.trim()}`);
    }
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const [op = '', count = '', ms = '', ok = 'ok'] = l.split(' ');
        return { op, count: Number(count), ms: Number(ms), ok: ok === 'ok' };
      });
    return { lines, wallMs };
  } finally {
    clearTimeout(timer);
  }
}

function line(lines: Line[], op: string, count: number): Line {
  const l = lines.find((x) => x.op === op);
  if (l === undefined) throw new Error(`fsbench: no "${op}" line`);
  if (l.count !== count || !l.ok) throw new Error(`fsbench ${op}: ${l.count} of ${count}${l.ok ? '' : ', bytes differ'}`);
  return l;
}

function opfsWorker(): Worker {
  return new Worker(new URL('../opfs-worker.ts', import.meta.url), { type: 'module', name: 'raw opfs' });
}

function ask(w: Worker, req: OpfsRequest): Promise<OpfsReply> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<OpfsReply>) => (e.data.op === 'error' ? reject(new Error(`raw opfs: ${e.data.message}`)) : resolve(e.data));
    w.postMessage(req);
  });
}

/** Uint8Array.prototype.set of `size` bytes on the page, ms of each of 10. */
function memcpy(size: number): number[] {
  const src = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) src[i] = i & 0xff;
  const dst = new Uint8Array(size);
  dst.set(src);
  const out: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    dst.set(src);
    out.push(performance.now() - t0);
  }
  return out;
}

/** 64 MiB written in 1 MiB pieces into a Uint8Array made for it: the first touch of fresh memory, as a new file's. */
function freshCopy(size: number): number[] {
  const piece = new Uint8Array(MiB).fill(7);
  const out: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const dst = new Uint8Array(size);
    for (let at = 0; at < size; at += MiB) dst.set(piece, at);
    out.push(performance.now() - t0);
  }
  return out;
}

const mbps = (bytes: number, ms: number[]): number => bytes / 1e6 / (median(ms) / 1000);
const perSecond = (count: number, ms: number[]): number => count / (median(ms) / 1000);

export async function filesFigure(): Promise<FigureResult> {
  const name = `fsbench-${Date.now()}`;
  const kernel = createKernel({ dbName: `bench-files-${Date.now()}` });
  const home = { '/home': 'home' } as const;
  const tmp = { '/tmp': 'tmp' } as const;
  const homeWrite: number[] = [];
  const homeRead: number[] = [];
  const homeReadWall: number[] = [];
  const homeSmall: number[] = [];
  const tmpWrite: number[] = [];
  const tmpRead: number[] = [];
  const tmpBareWrite: number[] = [];
  const tmpBareRead: number[] = [];
  const rawWrite: number[] = [];
  const rawRead: number[] = [];
  const rawSmall: number[] = [];
  const bareWrite: number[] = [];
  const bareRead: number[] = [];
  const homeBareWrite: number[] = [];
  const homeBareRead: number[] = [];
  const refused: Array<{ bytes: number; why: string }> = [];
  let size = 0;
  const w = opfsWorker();
  try {
    await kernel.ready;
    await kernel.install(await fixtureBytes('fsbench'), { name });
    for (const s of HOME_SIZES) {
      try {
        line((await fsbench(kernel, name, ['write', '/home/big', String(s), String(CHUNK)], home)).lines, 'write', s);
        line((await fsbench(kernel, name, ['read', '/home/big', String(CHUNK)], home)).lines, 'read', s);
        size = s;
        break;
      } catch (e) {
        refused.push({ bytes: s, why: String(e) });
      }
    }
    if (size === 0) throw new Error(`no size works in a home: ${JSON.stringify(refused)}`);
    await ask(w, { op: 'rw', bytes: size, chunk: CHUNK });
    await ask(w, { op: 'small', count: 20 });
    await fsbench(kernel, name, ['small', '/home', '20'], home);
    await fsbench(kernel, name, ['write', '/home/bare', String(MiB), String(CHUNK), 'bare'], home);
    await fsbench(kernel, name, ['rw', '/tmp/big', String(MiB), String(CHUNK)], tmp);
    for (let i = 0; i < RUNS; i++) {
      homeWrite.push(line((await fsbench(kernel, name, ['write', '/home/big', String(size), String(CHUNK)], home)).lines, 'write', size).ms);
      const r = await fsbench(kernel, name, ['read', '/home/big', String(CHUNK)], home);
      homeRead.push(line(r.lines, 'read', size).ms);
      homeReadWall.push(r.wallMs);
      const raw = await ask(w, { op: 'rw', bytes: size, chunk: CHUNK });
      if (raw.op !== 'rw' || raw.wrote !== size || raw.read !== size || !raw.ok) throw new Error(`raw opfs: ${JSON.stringify(raw)}`);
      rawWrite.push(raw.writeMs);
      rawRead.push(raw.readMs);
      const bare = await ask(w, { op: 'rw', bytes: size, chunk: CHUNK, bare: true });
      if (bare.op !== 'rw' || bare.wrote !== size || bare.read !== size) throw new Error(`raw opfs bare: ${JSON.stringify(bare)}`);
      bareWrite.push(bare.writeMs);
      bareRead.push(bare.readMs);
      homeBareWrite.push(line((await fsbench(kernel, name, ['write', '/home/bare', String(size), String(CHUNK), 'bare'], home)).lines, 'write', size).ms);
      homeBareRead.push(line((await fsbench(kernel, name, ['read', '/home/bare', String(CHUNK), 'bare'], home)).lines, 'read', size).ms);
      homeSmall.push(line((await fsbench(kernel, name, ['small', '/home', String(SMALL)], home)).lines, 'small', SMALL).ms);
      const rs = await ask(w, { op: 'small', count: SMALL });
      if (rs.op !== 'small' || rs.count !== SMALL) throw new Error(`raw opfs small: ${JSON.stringify(rs)}`);
      rawSmall.push(rs.ms);
      const t = (await fsbench(kernel, name, ['rw', '/tmp/big', String(TMP_SIZE), String(CHUNK)], tmp)).lines;
      tmpWrite.push(line(t, 'write', TMP_SIZE).ms);
      tmpRead.push(line(t, 'read', TMP_SIZE).ms);
      const tb = (await fsbench(kernel, name, ['rw', '/tmp/big', String(TMP_SIZE), String(CHUNK), 'bare'], tmp)).lines;
      tmpBareWrite.push(line(tb, 'write', TMP_SIZE).ms);
      tmpBareRead.push(line(tb, 'read', TMP_SIZE).ms);
    }
  } finally {
    await ask(w, { op: 'clear' }).catch(() => {});
    w.terminate();
    try {
      const dir = await kernel.home(name);
      await dir.removeEntry('big');
      await dir.removeEntry('bare').catch(() => {});
    } catch {
      // nothing to clear
    }
    kernel.dispose();
  }
  const copy = memcpy(TMP_SIZE);
  const fresh = freshCopy(TMP_SIZE);
  const mb = (size / MiB).toFixed(size >= MiB ? 0 : 3);
  const figure = (op: string): string => `files: ${mb} MiB sequential ${op} of a file in a home, 1 MiB pieces, open to close, timed in the module`;
  const note = `written to a swap file through the file server (4 MiB gathered per request, sent without waiting), moved in place at close (ADR 0025); ${mb} MiB is the largest of ${HOME_SIZES.map((s) => s / MiB).join(', ')} MiB that worked`;
  const smallFigure = `files: ${SMALL} small files created, stat'd, unlinked, one after another`;
  const memFigure = (op: string): string => `files: 64 MiB sequential ${op} of a file in /tmp (in memory), 1 MiB pieces, timed in the module`;
  return {
    rows: [
      row({ id: 'files.home-write', figure: figure('write'), unit: 'MB/s', better: 'higher', webmk: mbps(size, homeWrite), baseline: 'OPFS sync access handle from a plain worker: open, write, flush, close', raw: mbps(size, rawWrite), target: { op: '>=', ratio: 0.5 }, note }),
      row({ id: 'files.home-read', figure: figure('read'), unit: 'MB/s', better: 'higher', webmk: mbps(size, homeRead), baseline: 'OPFS sync access handle from a plain worker: open, read, close', raw: mbps(size, rawRead), target: { op: '>=', ratio: 0.5 }, note: 'read through the file server\'s sync access handle, 4 MiB ahead per request through shared memory (ADR 0025)' }),
      // The raw worker above makes and checks the pattern in a JS loop, the module in wasm: the storage alone, on both sides, is the stricter comparison.
      row({ id: 'files.home-write-bare', figure: `${figure('write')}, the storage alone (no pattern made in the loop, module and raw)`, unit: 'MB/s', better: 'higher', webmk: mbps(size, homeBareWrite), baseline: 'the same handle, no pattern made in the loop', raw: mbps(size, bareWrite), target: { op: '>=', ratio: 0.5 } }),
      row({ id: 'files.home-read-bare', figure: `${figure('read')}, the storage alone (no pattern checked, module and raw)`, unit: 'MB/s', better: 'higher', webmk: mbps(size, homeBareRead), baseline: 'the same handle, no pattern checked', raw: mbps(size, bareRead), target: { op: '>=', ratio: 0.5 } }),
      row({ id: 'files.home-small', figure: smallFigure, unit: 'files/s', better: 'higher', webmk: perSecond(SMALL, homeSmall), baseline: 'OPFS from a plain worker: getFileHandle(create), getFile, removeEntry', raw: perSecond(SMALL, rawSmall) }),
      row({ id: 'files.tmp-write', figure: `${memFigure('write')}, the storage alone (no pattern made in the loop)`, unit: 'MB/s', better: 'higher', webmk: mbps(TMP_SIZE, tmpBareWrite), baseline: 'memcpy: Uint8Array.set of 64 MiB on the page', raw: mbps(TMP_SIZE, copy) }),
      row({ id: 'files.tmp-write-fresh', figure: `${memFigure('write')}, the storage alone, beside fresh memory`, unit: 'MB/s', better: 'higher', webmk: mbps(TMP_SIZE, tmpBareWrite), baseline: 'a new 64 MiB Uint8Array filled in 1 MiB pieces on the page (first touch of its memory)', raw: mbps(TMP_SIZE, fresh), note: "a new file's buffer grows by doubling: each growth copies what it holds and touches fresh memory" }),
      row({ id: 'files.tmp-read', figure: `${memFigure('read')}, the storage alone (no pattern checked)`, unit: 'MB/s', better: 'higher', webmk: mbps(TMP_SIZE, tmpBareRead), baseline: 'memcpy: Uint8Array.set of 64 MiB on the page', raw: mbps(TMP_SIZE, copy) }),
    ],
    breakdown: [
      { id: 'files.tmp-write-pattern', what: `${memFigure('write')}, the pattern made in wasm as it goes`, value: mbps(TMP_SIZE, tmpWrite), unit: 'MB/s' },
      { id: 'files.tmp-read-pattern', what: `${memFigure('read')}, every byte checked in wasm`, value: mbps(TMP_SIZE, tmpRead), unit: 'MB/s' },
      { id: 'files.home-read-wall', what: `home read from the page: spawn to exit, ${mb} MiB`, value: mbps(size, homeReadWall), unit: 'MB/s' },

    ],
    detail: {
      homeBytes: size,
      refused,
      runsMs: {
        homeWrite: samples(homeWrite),
        homeRead: samples(homeRead),
        homeReadWall: samples(homeReadWall),
        rawWrite: samples(rawWrite),
        rawRead: samples(rawRead),
        bareWrite: samples(bareWrite),
        bareRead: samples(bareRead),
        homeBareWrite: samples(homeBareWrite),
        homeBareRead: samples(homeBareRead),
        homeSmall: samples(homeSmall),
        rawSmall: samples(rawSmall),
        tmpWrite: samples(tmpWrite),
        tmpRead: samples(tmpRead),
        tmpBareWrite: samples(tmpBareWrite),
        tmpBareRead: samples(tmpBareRead),
        memcpy: samples(copy),
        freshCopy: samples(fresh),
      },
      verified: 'byte counts every run, the bytes against their pattern on every read (module and raw)',
      memcpyMsMedian: round(median(copy)),
    },
  };
}
