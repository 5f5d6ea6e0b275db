/**
 * The raw baseline of the files figure: OPFS from a plain worker, nothing of webmk. A file written
 * and read through a sync access handle, and small files created, stat'd and removed through the
 * directory handle, in the same pieces and counts as the module's. One request per message.
 */

export type OpfsRequest = { op: 'rw'; bytes: number; chunk: number; bare?: boolean } | { op: 'small'; count: number } | { op: 'clear' };
export type OpfsReply =
  | { op: 'rw'; wrote: number; writeMs: number; read: number; readMs: number; ok: boolean }
  | { op: 'small'; count: number; ms: number }
  | { op: 'clear' }
  | { op: 'error'; message: string };

interface SyncHandle {
  write(buffer: Uint8Array, options?: { at: number }): number;
  read(buffer: Uint8Array, options?: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
interface WorkerScope {
  postMessage(message: OpfsReply): void;
  onmessage: ((e: MessageEvent<OpfsRequest>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const DIR = 'bench-raw-files';

const pattern = (i: number): number => (i * 31 + Math.floor(i / 4096)) & 0xff;

async function dir(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(DIR, { create: true });
}

async function syncHandle(d: FileSystemDirectoryHandle, name: string, create: boolean): Promise<SyncHandle> {
  const f = await d.getFileHandle(name, { create });
  return (f as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
}

/**
 * Writes `bytes` in `chunk`-byte writes (open to close), then reads them back the same way. `bare`:
 * the storage alone, the pattern made once before the clock starts and not checked (a stricter
 * baseline than the module's, whose pattern costs it a wasm loop, against a JS loop here).
 */
async function rw(bytes: number, chunk: number, bare = false): Promise<OpfsReply> {
  const d = await dir();
  const buf = new Uint8Array(chunk);
  if (bare) for (let i = 0; i < chunk; i++) buf[i] = pattern(i);
  let t0 = performance.now();
  let h = await syncHandle(d, 'big', true);
  h.truncate(0);
  let wrote = 0;
  while (wrote < bytes) {
    const n = Math.min(chunk, bytes - wrote);
    if (!bare) for (let i = 0; i < n; i++) buf[i] = pattern(wrote + i);
    wrote += h.write(n === chunk ? buf : buf.subarray(0, n), { at: wrote });
  }
  h.flush();
  h.close();
  const writeMs = performance.now() - t0;
  t0 = performance.now();
  h = await syncHandle(d, 'big', false);
  let read = 0;
  let ok = true;
  for (;;) {
    const r = h.read(buf, { at: read });
    if (r === 0) break;
    if (!bare) for (let i = 0; i < r; i++) if (buf[i] !== pattern(read + i)) ok = false;
    read += r;
  }
  h.close();
  const readMs = performance.now() - t0;
  return { op: 'rw', wrote, writeMs, read, readMs, ok };
}

/** `count` times: create a file (getFileHandle with create), stat it (getFile), remove it. */
async function small(count: number): Promise<OpfsReply> {
  const d = await dir();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const name = `f${i}`;
    const f = await d.getFileHandle(name, { create: true });
    const file = await f.getFile();
    if (file.size !== 0) throw new Error(`${name}: size ${file.size}`);
    await d.removeEntry(name);
  }
  return { op: 'small', count, ms: performance.now() - t0 };
}

scope.onmessage = (e) => {
  const req = e.data;
  const run = async (): Promise<OpfsReply> => {
    if (req.op === 'rw') return rw(req.bytes, req.chunk, req.bare);
    if (req.op === 'small') return small(req.count);
    await (await navigator.storage.getDirectory()).removeEntry(DIR, { recursive: true }).catch(() => {});
    return { op: 'clear' };
  };
  run().then(
    (r) => scope.postMessage(r),
    (err: unknown) => scope.postMessage({ op: 'error', message: String(err) }),
  );
};
