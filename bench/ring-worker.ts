/**
 * The reference ceiling for pipes: one side of a bare single-producer single-consumer byte ring
 * over a SharedArrayBuffer, moving bytes between two workers with Atomics.wait/notify. No
 * streams, no page in the loop: what the hardware and the JS engine allow.
 */
import type { RingGo, RingReply, RingSetup } from './lib/protocol';

interface WorkerScope {
  postMessage(message: RingReply): void;
  onmessage: ((e: MessageEvent<RingSetup | RingGo>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

/** Int32 header slots: total read, total written (both mod 2^32; capacity a power of two). */
const READ = 0;
const WRITE = 1;
const HEADER = 8;

let setup: RingSetup | undefined;

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'setup') {
    setup = msg;
    scope.postMessage({ type: 'ready' });
    return;
  }
  if (setup === undefined) return;
  scope.postMessage(setup.role === 'producer' ? produce(setup) : setup.role === 'echo' ? echo(setup) : consume(setup));
};

/**
 * Copies what arrives on `sab` to `out` in `chunk`-byte pieces until `total` bytes went
 * through: the page writes one ring and reads the other, as with a process's stdin and stdout.
 */
function echo(s: RingSetup): RingReply {
  const inH = new Int32Array(s.sab, 0, 2);
  const inData = new Uint8Array(s.sab, HEADER);
  if (s.out === undefined) throw new Error('echo needs an out ring');
  const outH = new Int32Array(s.out, 0, 2);
  const outData = new Uint8Array(s.out, HEADER);
  const buf = new Uint8Array(s.chunk);
  let moved = 0;
  while (moved < s.total) {
    // Take what is there (up to a chunk), as read(2) would.
    const w = Atomics.load(inH, WRITE);
    const r = Atomics.load(inH, READ);
    const avail = (w - r) >>> 0;
    if (avail === 0) {
      Atomics.wait(inH, WRITE, w);
      continue;
    }
    const n = Math.min(avail, s.chunk);
    copyOut(inData, r, buf, n);
    Atomics.store(inH, READ, (r + n) | 0);
    Atomics.notify(inH, READ);
    // Then write all of it, waiting for room.
    let sent = 0;
    while (sent < n) {
      const ow = Atomics.load(outH, WRITE);
      const or = Atomics.load(outH, READ);
      const free = outData.length - ((ow - or) >>> 0);
      if (free === 0) {
        Atomics.wait(outH, READ, or);
        continue;
      }
      const m = Math.min(free, n - sent);
      copyIn(outData, ow, buf.subarray(sent, sent + m));
      Atomics.store(outH, WRITE, (ow + m) | 0);
      Atomics.notify(outH, WRITE);
      sent += m;
    }
    moved += n;
  }
  return { type: 'done', bytes: moved, checksum: 0 };
}

/** Copies `n` bytes out of a ring's data starting at counter `r`. */
function copyOut(data: Uint8Array, r: number, dst: Uint8Array, n: number): void {
  const at = r & (data.length - 1);
  const first = Math.min(n, data.length - at);
  dst.set(data.subarray(at, at + first), 0);
  if (n > first) dst.set(data.subarray(0, n - first), first);
}

/** Copies `src` into a ring's data starting at counter `w`. */
function copyIn(data: Uint8Array, w: number, src: Uint8Array): void {
  const at = w & (data.length - 1);
  const first = Math.min(src.length, data.length - at);
  data.set(src.subarray(0, first), at);
  if (src.length > first) data.set(src.subarray(first), 0);
}

function produce(s: RingSetup): RingReply {
  const h = new Int32Array(s.sab, 0, 2);
  const data = new Uint8Array(s.sab, HEADER);
  const cap = data.length;
  const src = new Uint8Array(s.chunk);
  for (let i = 0; i < src.length; i++) src[i] = i & 0xff;
  let sent = 0;
  while (sent < s.total) {
    const r = Atomics.load(h, READ);
    const w = Atomics.load(h, WRITE);
    const free = cap - ((w - r) >>> 0);
    if (free === 0) {
      Atomics.wait(h, READ, r);
      continue;
    }
    const n = Math.min(free, s.chunk, s.total - sent);
    const at = w & (cap - 1);
    const first = Math.min(n, cap - at);
    data.set(src.subarray(0, first), at);
    if (n > first) data.set(src.subarray(first, n), 0);
    Atomics.store(h, WRITE, (w + n) | 0);
    Atomics.notify(h, WRITE);
    sent += n;
  }
  return { type: 'done', bytes: sent, checksum: 0 };
}

function consume(s: RingSetup): RingReply {
  const h = new Int32Array(s.sab, 0, 2);
  const data = new Uint8Array(s.sab, HEADER);
  const cap = data.length;
  const dst = new Uint8Array(s.chunk);
  let got = 0;
  let checksum = 0;
  while (got < s.total) {
    const w = Atomics.load(h, WRITE);
    const r = Atomics.load(h, READ);
    const avail = (w - r) >>> 0;
    if (avail === 0) {
      Atomics.wait(h, WRITE, w);
      continue;
    }
    const n = Math.min(avail, s.chunk);
    const at = r & (cap - 1);
    const first = Math.min(n, cap - at);
    dst.set(data.subarray(at, at + first), 0);
    if (n > first) dst.set(data.subarray(0, n - first), first);
    Atomics.store(h, READ, (r + n) | 0);
    Atomics.notify(h, READ);
    checksum = (checksum + (dst[0] ?? 0)) | 0;
    got += n;
  }
  return { type: 'done', bytes: got, checksum };
}
