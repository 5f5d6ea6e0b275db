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
  scope.postMessage(setup.role === 'producer' ? produce(setup) : consume(setup));
};

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
