/**
 * The bare primitives under webmk's pipes and stdio: a single-producer single-consumer byte ring
 * over a SharedArrayBuffer with Atomics.wait/notify (bench/ring-worker.ts), between two workers,
 * or from the page through a worker and back. No streams, no WASI, no kernel: what the engine and
 * the hardware allow for the same bytes in the same pieces.
 */
import type { RingReply, RingSetup } from './protocol';

/** Header: two Int32 counters, total read and total written (mod 2^32). */
const READ = 0;
const WRITE = 1;
const HEADER = 8;

function ringWorker(): Worker {
  return new Worker(new URL('../ring-worker.ts', import.meta.url), { type: 'module', name: 'ring' });
}

function reply(w: Worker): Promise<RingReply> {
  return new Promise((ok, fail) => {
    w.onmessage = (e: MessageEvent<RingReply>) => ok(e.data);
    w.onerror = (e) => fail(new Error(`ring worker failed: ${e.message}`));
  });
}

async function setUp(w: Worker, msg: RingSetup): Promise<void> {
  const r = reply(w);
  w.postMessage(msg);
  await r;
}

/** ms to move `total` bytes between two workers in `chunk`-byte writes and reads. */
export async function ringBetweenWorkers(total: number, chunk: number, capacity = 1024 * 1024): Promise<number> {
  const sab = new SharedArrayBuffer(HEADER + capacity);
  const producer = ringWorker();
  const consumer = ringWorker();
  try {
    await setUp(producer, { type: 'setup', role: 'producer', sab, total, chunk });
    await setUp(consumer, { type: 'setup', role: 'consumer', sab, total, chunk });
    const done = [reply(producer), reply(consumer)];
    const t0 = performance.now();
    producer.postMessage({ type: 'go' });
    consumer.postMessage({ type: 'go' });
    const [, consumed] = await Promise.all(done);
    const ms = performance.now() - t0;
    if (consumed?.type !== 'done' || consumed.bytes !== total) throw new Error('ring: wrong byte count');
    return ms;
  } finally {
    producer.terminate();
    consumer.terminate();
  }
}

/** Resolves once `h[slot]` no longer holds `seen` (at once if it already moved). */
async function changed(h: Int32Array, slot: number, seen: number): Promise<void> {
  const w = Atomics.waitAsync(h, slot, seen);
  if (w.async) await w.value;
}

/** The page's writer: all of `src` into the ring, waiting for room. */
async function pageWrite(sab: SharedArrayBuffer, src: Uint8Array): Promise<void> {
  const h = new Int32Array(sab, 0, 2);
  const data = new Uint8Array(sab, HEADER);
  let sent = 0;
  while (sent < src.length) {
    const r = Atomics.load(h, READ);
    const w = Atomics.load(h, WRITE);
    const free = data.length - ((w - r) >>> 0);
    if (free === 0) {
      await changed(h, READ, r);
      continue;
    }
    const n = Math.min(free, src.length - sent);
    const at = w & (data.length - 1);
    const first = Math.min(n, data.length - at);
    data.set(src.subarray(sent, sent + first), at);
    if (n > first) data.set(src.subarray(sent + first, sent + n), 0);
    Atomics.store(h, WRITE, (w + n) | 0);
    Atomics.notify(h, WRITE);
    sent += n;
  }
}

/** The page's reader: `total` bytes, each read a fresh copy of what is there (as a stream's chunks). */
async function pageRead(sab: SharedArrayBuffer, total: number): Promise<{ chunks: Uint8Array[]; reads: number }> {
  const h = new Int32Array(sab, 0, 2);
  const data = new Uint8Array(sab, HEADER);
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < total) {
    const w = Atomics.load(h, WRITE);
    const r = Atomics.load(h, READ);
    const n = (w - r) >>> 0;
    if (n === 0) {
      await changed(h, WRITE, w);
      continue;
    }
    const out = new Uint8Array(n);
    const at = r & (data.length - 1);
    const first = Math.min(n, data.length - at);
    out.set(data.subarray(at, at + first), 0);
    if (n > first) out.set(data.subarray(0, n - first), first);
    Atomics.store(h, READ, (r + n) | 0);
    Atomics.notify(h, READ);
    chunks.push(out);
    got += n;
  }
  return { chunks, reads: chunks.length };
}

/**
 * ms to send `src` from the page into a worker that copies it back in `chunk`-byte pieces, and
 * read it all on the page: a process's stdin and stdout with nothing but the rings in between.
 * Checks the bytes when `verify`.
 */
export async function ringThroughPage(src: Uint8Array, opts: { inCapacity: number; outCapacity: number; chunk: number; verify: boolean }): Promise<{ ms: number; reads: number }> {
  const inRing = new SharedArrayBuffer(HEADER + opts.inCapacity);
  const outRing = new SharedArrayBuffer(HEADER + opts.outCapacity);
  const echo = ringWorker();
  try {
    await setUp(echo, { type: 'setup', role: 'echo', sab: inRing, out: outRing, total: src.length, chunk: opts.chunk });
    const done = reply(echo);
    const t0 = performance.now();
    echo.postMessage({ type: 'go' });
    const [, read] = await Promise.all([pageWrite(inRing, src), pageRead(outRing, src.length), done]);
    const ms = performance.now() - t0;
    if (opts.verify) {
      let at = 0;
      for (const c of read.chunks) {
        for (let i = 0; i < c.length; i++) if (c[i] !== src[at + i]) throw new Error('ring through the page: the bytes differ');
        at += c.length;
      }
    }
    return { ms, reads: read.reads };
  } finally {
    echo.terminate();
  }
}
