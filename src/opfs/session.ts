/**
 * One process's files, as the file server serves them (ADR 0025). Reads go to a handle on the
 * real file, shared by the page's processes; writes go to a swap file (a copy, made at the first
 * write unless the file was emptied), which `commit` (the process's close or fsync) moves over the
 * real file at once. So a write a full disk refuses, or a process killed mid-write, never leaves a
 * half-written file in place of a good one.
 */
import type { FileOp, FileReply, FileRequest } from '../ipc';
import { FILE_CHANNEL_DATA } from '../ipc';
import { FileError, failureOf, moveFile, openShared, swapFile, type Home, type Swap } from './handles';

/** A file the process has open. */
interface Opened {
  path: string;
  /** Its length as this process sees it. */
  size: number;
  /** Emptied at open: the swap starts empty, and a close with no write still empties it. */
  truncated: boolean;
  swap: Swap | undefined;
  /** A write or truncate failed since the last commit: the next commit drops the swap instead. */
  failed: FileError | undefined;
}

/**
 * The most bytes one `write` of a sync access handle takes: a room's 4 MiB goes in four. Measured
 * (ADR 0031): 64 MiB written in 4 MiB writes took longer than in 1 MiB ones, as much as twice
 * with the module making its bytes meanwhile.
 */
const WRITE_PIECE = 1024 * 1024;

/** How a request ends: its reply and how many bytes of the channel it filled. */
type Answer = { value: FileReply; n: number };

const ok = (value?: unknown, n = 0): Answer => ({ value: value === undefined ? { ok: true } : { ok: true, value }, n });

export class Session {
  private readonly files = new Map<number, Opened>();
  private nextId = 1;
  private ended = false;

  /** `noSpace` hears of each write refused for want of room. */
  constructor(
    readonly home: Home,
    private readonly noSpace: (path: string) => void,
  ) {}

  /** Answers one request; never throws. */
  async handle(r: FileRequest): Promise<Answer> {
    const op = r.args as FileOp;
    try {
      try {
        return await this.run(op, r);
      } catch (e) {
        // The home itself may have been removed and made again since its handle was taken: once more, from the top.
        if (!('path' in op) || failureOf(e).code !== 'notfound') throw e;
        this.home.forget();
        return await this.run(op, r);
      }
    } catch (e) {
      const f = failureOf(e);
      // The write that met the full disk tells the page (its close, which then fails too, does not again).
      if (f.code === 'nospace' && op.op !== 'commit') {
        const path = 'id' in op ? this.files.get(op.id)?.path : 'path' in op ? op.path : undefined;
        if (path !== undefined) this.noSpace(path);
      }
      return { value: { ok: false, code: f.code, message: f.message }, n: 0 };
    }
  }

  private opened(id: number): Opened {
    const o = this.files.get(id);
    if (o === undefined) throw new FileError('inval', `no open file ${id}`);
    return o;
  }

  private async run(op: FileOp, r: FileRequest): Promise<Answer> {
    switch (op.op) {
      case 'list':
        return ok(await this.list(op.path));
      case 'stat':
        return ok(await this.stat(op.path));
      case 'open': {
        const [dir, leaf] = await this.home.parent(op.path);
        await dir.getFileHandle(leaf, { create: op.create });
        const id = this.nextId++;
        this.files.set(id, { path: op.path, size: 0, truncated: op.trunc, swap: undefined, failed: undefined });
        this.home.hold(op.path);
        return ok({ id });
      }
      case 'read': {
        const o = this.opened(op.id);
        const len = Math.min(op.len, FILE_CHANNEL_DATA);
        const sah = o.swap?.sah ?? (o.truncated ? undefined : await this.home.handle(o.path));
        const n = sah === undefined ? 0 : sah.read(r.out.subarray(0, len), { at: op.at });
        return ok(n, n);
      }
      case 'write': {
        const o = this.opened(op.id);
        const n = await this.changing(o, (swap) => {
          let w = 0;
          for (let k = 0; k < r.data.length; k += WRITE_PIECE) w += swap.sah.write(r.data.subarray(k, k + WRITE_PIECE), { at: op.at + k });
          return w;
        });
        o.size = Math.max(o.size, op.at + n);
        return ok(n);
      }
      case 'truncate': {
        const o = this.opened(op.id);
        await this.changing(o, (swap) => swap.sah.truncate(op.size));
        o.size = op.size;
        return ok();
      }
      case 'commit':
        await this.commit(this.opened(op.id));
        return ok();
      case 'close':
        this.drop(op.id);
        return ok();
      case 'mkdir': {
        const [dir, leaf] = await this.home.parent(op.path, true);
        await dir.getDirectoryHandle(leaf, { create: true });
        return ok();
      }
      case 'remove':
        await this.remove(op.path);
        return ok();
      case 'rename':
        await this.rename(op.from, op.to);
        return ok();
      default:
        throw new FileError('inval', 'unknown request');
    }
  }

  /** The entries of a directory: name and whether it is one. */
  private async list(path: string): Promise<Array<[string, boolean]>> {
    const dir = await this.home.directory(path === '' ? [] : path.split('/'));
    const out: Array<[string, boolean]> = [];
    for await (const [name, h] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) out.push([name, h.kind === 'directory']);
    return out;
  }

  /** What is at `path`: a directory, a file and its size, or nothing (null). */
  private async stat(path: string): Promise<{ dir: boolean; size: number } | null> {
    try {
      const [dir, leaf] = await this.home.parent(path);
      try {
        return { dir: false, size: (await (await dir.getFileHandle(leaf)).getFile()).size };
      } catch (e) {
        if (!(e instanceof DOMException && e.name === 'TypeMismatchError')) throw e;
        return { dir: true, size: 0 };
      }
    } catch (e) {
      if (e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError')) return null;
      throw e;
    }
  }

  /** Runs a change on the swap; a failure (a full disk) marks the file, so its commit keeps the good one. */
  private async changing<T>(o: Opened, f: (swap: Swap) => T): Promise<T> {
    try {
      return f(await this.swapOf(o));
    } catch (e) {
      o.failed = failureOf(e);
      throw o.failed;
    }
  }

  /** The file's swap, made at its first write: a copy of the real file, unless it was emptied. */
  private async swapOf(o: Opened): Promise<Swap> {
    if (o.swap !== undefined) return o.swap;
    const swap = await swapFile();
    try {
      if (!o.truncated) {
        const real = await this.home.handle(o.path);
        const size = real.getSize();
        swap.sah.truncate(size); // reserves the room first: a full disk is refused before a byte moves
        const buf = new Uint8Array(Math.min(size, FILE_CHANNEL_DATA));
        for (let at = 0; at < size; ) {
          const n = real.read(buf, { at });
          if (n === 0) break;
          swap.sah.write(buf.subarray(0, n), { at });
          at += n;
        }
        o.size = size;
      }
    } catch (e) {
      swap.sah.close();
      await swap.dir.removeEntry(swap.name).catch(() => {});
      throw e;
    }
    if (this.ended) {
      // The process ended while the copy was made: nothing will commit or drop it.
      swap.sah.close();
      await swap.dir.removeEntry(swap.name).catch(() => {});
      throw new FileError('closed');
    }
    o.swap = swap;
    return swap;
  }

  /** Moves the swap over the real file, at once; the real file stays as it was until then. */
  private async commit(o: Opened): Promise<void> {
    const failed = o.failed;
    if (failed !== undefined) {
      // Half a write is not kept: the swap goes, the real file stays as it was, and the close says why.
      o.failed = undefined;
      o.truncated = false;
      this.dropSwap(o);
      throw failed;
    }
    if (o.swap === undefined && !o.truncated) return;
    const swap = await this.swapOf(o);
    swap.sah.flush();
    swap.sah.close();
    o.swap = undefined;
    o.truncated = false;
    const [dir, leaf] = await this.home.parent(o.path);
    // A real file with a handle open cannot be moved over: the page's own handles close (and
    // open again at their next read); another tab's stay, and the bytes are copied in instead.
    this.home.let(o.path);
    try {
      await moveFile(swap.file, dir, leaf);
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'NoModificationAllowedError')) {
        await swap.dir.removeEntry(swap.name).catch(() => {});
        throw e;
      }
      await this.copyOver(swap, o.path);
    }
  }

  /** Copies a swap into the real file in place (its last resort when another tab holds the file open). */
  private async copyOver(swap: Swap, path: string): Promise<void> {
    const from = await openShared(swap.file);
    try {
      const to = await this.home.handle(path);
      const size = from.getSize();
      to.truncate(size);
      const buf = new Uint8Array(Math.min(size, FILE_CHANNEL_DATA));
      for (let at = 0; at < size; ) {
        const n = from.read(buf, { at });
        if (n === 0) break;
        to.write(buf.subarray(0, n), { at });
        at += n;
      }
      to.flush();
    } finally {
      from.close();
      await swap.dir.removeEntry(swap.name).catch(() => {});
    }
  }

  private async remove(path: string): Promise<void> {
    const [dir, leaf] = await this.home.parent(path);
    this.home.let(path);
    try {
      await dir.removeEntry(leaf, { recursive: true });
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
    }
  }

  private async rename(from: string, to: string): Promise<void> {
    const [fromDir, fromLeaf] = await this.home.parent(from);
    const [toDir, toLeaf] = await this.home.parent(to, true);
    this.home.let(from);
    this.home.let(to);
    try {
      await moveFile(await fromDir.getFileHandle(fromLeaf), toDir, toLeaf);
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'TypeMismatchError')) throw e;
      // OPFS moves files only: a directory is made anew and its files moved into it, one by one
      // (no byte is copied, but another process may see it half moved). An empty directory in the
      // way goes first (the process checked that it is empty).
      await toDir.removeEntry(toLeaf).catch(() => {});
      await moveTree(await fromDir.getDirectoryHandle(fromLeaf), await toDir.getDirectoryHandle(toLeaf, { create: true }));
      await fromDir.removeEntry(fromLeaf, { recursive: true });
    }
    this.home.renamed(from, to);
    for (const o of this.files.values()) if (o.path === from || o.path.startsWith(`${from}/`)) o.path = to + o.path.slice(from.length);
  }

  /** Lets go of an open file; a write it did not commit is dropped. */
  private drop(id: number): void {
    const o = this.files.get(id);
    if (o === undefined) return;
    this.files.delete(id);
    this.home.release(o.path);
    this.dropSwap(o);
  }

  private dropSwap(o: Opened): void {
    if (o.swap === undefined) return;
    o.swap.sah.close();
    void o.swap.dir.removeEntry(o.swap.name).catch(() => {});
    o.swap = undefined;
  }

  /** The process has ended: everything it held goes. */
  end(): void {
    this.ended = true;
    for (const id of [...this.files.keys()]) this.drop(id);
  }
}

/** Moves everything in `from` into `to`, files by OPFS's own move, directories made anew. */
async function moveTree(from: FileSystemDirectoryHandle, to: FileSystemDirectoryHandle): Promise<void> {
  const entries: Array<[string, FileSystemHandle]> = [];
  for await (const e of from as unknown as AsyncIterable<[string, FileSystemHandle]>) entries.push(e);
  for (const [name, h] of entries) {
    if (h.kind === 'file') await moveFile(h as FileSystemFileHandle, to, name);
    else await moveTree(h as FileSystemDirectoryHandle, await to.getDirectoryHandle(name, { create: true }));
  }
}
