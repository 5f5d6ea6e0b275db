/**
 * A module's home read and written from its worker (ADR 0025): the names are listed at start
 * into the in-memory tree; a file's bytes stay in OPFS, read and written through the file server,
 * whose sync access handles move them through shared memory (never through the page). Writes go
 * to a swap file that a close or fsync moves in place at once, so a full disk (ENOSPC, at the
 * write) or an end mid-write never leaves half a file in place of a good one.
 */
import { wasi } from '@bjorn3/browser_wasi_shim';
import { DirNode, FileNode, MAX_FILE_SIZE, link, unlink, type Errno, type Inode } from './vfs';
import type { HomePlace, Keeper, OpenFile } from './home';
import { Channel } from './home-channel';

/** A file of the home: its length as this process knows it, its bytes in OPFS. */
export class HomeFile extends FileNode {
  /** The file server's id for it while this process has it open. */
  private id: number | undefined;
  private opens = 0;
  private dirty = false;
  private known: number | undefined;

  constructor(
    private readonly ch: Channel,
    public path: string,
    size?: number,
  ) {
    super();
    this.known = size;
  }

  override get length(): number {
    if (this.known === undefined) {
      const r = this.ch.ask({ op: 'stat', path: this.path });
      const s = typeof r === 'number' ? null : (r.value as { size: number } | null);
      this.known = s?.size ?? 0;
    }
    return this.known;
  }

  /** Learns the length another process left (at an open, while this one has it closed). */
  seen(path: string, size: number): void {
    if (this.opens > 0) return;
    this.path = path;
    this.known = size;
  }

  /** Whether no descriptor of this process has it open. */
  get closed(): boolean {
    return this.opens === 0;
  }

  /** Takes a use (an open); `made`: the server already has it open for this process. */
  acquire(trunc: boolean, id?: number): Errno {
    if (id !== undefined) this.id = id;
    if (this.id === undefined) {
      const r = this.ch.ask({ op: 'open', path: this.path, create: false, trunc });
      if (typeof r === 'number') return r;
      this.id = (r.value as { id: number }).id;
      if (trunc) {
        this.known = 0;
        this.dirty = true;
        this.touch();
      }
    } else if (trunc && this.length > 0) {
      const err = this.truncate(0);
      if (err !== wasi.ERRNO_SUCCESS) return err;
    }
    this.opens++;
    return wasi.ERRNO_SUCCESS;
  }

  /** Moves what was written in place (fsync, close). */
  commit(): Errno {
    if (!this.dirty || this.id === undefined) return wasi.ERRNO_SUCCESS;
    // A gathered write refused is reported by the commit too (the server drops the swap).
    const refused = this.ch.flush(this.id);
    const r = this.ch.ask({ op: 'commit', id: this.id });
    this.dirty = false;
    if (typeof r === 'number' || refused !== wasi.ERRNO_SUCCESS) {
      // Not kept: the home has the file it had before, of a length this process must ask again.
      this.known = undefined;
      return typeof r === 'number' ? r : refused;
    }
    return wasi.ERRNO_SUCCESS;
  }

  /** Gives a use back (a close): what was written is kept; the last lets go of the file. */
  release(): Errno {
    const err = this.commit();
    if (this.opens > 0) this.opens--;
    if (this.opens === 0 && this.id !== undefined) {
      this.ch.ask({ op: 'close', id: this.id });
      this.id = undefined;
    }
    return err;
  }

  /** Runs `f` with the file open (for a read while no descriptor has it, such as a rename out). */
  private withId<T>(f: (id: number) => T): T | Errno {
    if (this.id !== undefined) return f(this.id);
    const err = this.acquire(false);
    if (err !== wasi.ERRNO_SUCCESS) return err;
    try {
      return this.id === undefined ? wasi.ERRNO_BADF : f(this.id);
    } finally {
      this.release();
    }
  }

  override readAt(at: number, dst: Uint8Array): number {
    const n = this.withId((id) => this.ch.read(id, at, dst, this.length));
    return typeof n === 'number' ? n : 0;
  }

  override bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    out.subarray(0, this.readAt(0, out));
    return out;
  }

  override write(offset: number, data: Uint8Array): Errno {
    if (offset + data.length > MAX_FILE_SIZE) return wasi.ERRNO_FBIG;
    const id = this.id;
    if (id === undefined) return wasi.ERRNO_BADF;
    const err = this.ch.write(id, offset, data);
    if (err !== wasi.ERRNO_SUCCESS) return err;
    this.dirty = true;
    this.known = Math.max(this.length, offset + data.length);
    this.touch();
    return wasi.ERRNO_SUCCESS;
  }

  override truncate(length: number): Errno {
    if (length > MAX_FILE_SIZE) return wasi.ERRNO_FBIG;
    const id = this.id;
    if (id === undefined) return wasi.ERRNO_BADF;
    const r = this.ch.ask({ op: 'truncate', id, size: length });
    if (typeof r === 'number') return r;
    this.dirty = true;
    this.known = length;
    this.touch();
    return wasi.ERRNO_SUCCESS;
  }
}

/** A module's home kept in OPFS by the file server. */
export class OpfsKeeper implements Keeper {
  private readonly ch: Channel;

  constructor(channel: SharedArrayBuffer) {
    this.ch = new Channel(channel);
  }

  /** Fills `root` with the names under `path` of the home (directories whole, file lengths when asked). */
  list(root: DirNode, path = ''): Errno {
    const r = this.ch.ask({ op: 'list', path });
    if (typeof r === 'number') return r;
    for (const [name, isDir] of r.value as Array<[string, boolean]>) {
      const p = path === '' ? name : `${path}/${name}`;
      if (root.entries.has(name)) continue;
      if (isDir) {
        const d = new DirNode(root);
        link(root, name, d);
        this.list(d, p);
      } else link(root, name, new HomeFile(this.ch, p));
    }
    return wasi.ERRNO_SUCCESS;
  }

  refresh(place: HomePlace, dir: DirNode, name: string, node: Inode | undefined): void {
    const r = this.ch.ask({ op: 'stat', path: place.path });
    if (typeof r === 'number') return;
    const s = r.value as { dir: boolean; size: number } | null;
    if (s === null) {
      // Removed by another process (or the page) since this one looked.
      if (node instanceof HomeFile && node.closed) unlink(dir, name);
      return;
    }
    if (s.dir) {
      if (node !== undefined) return;
      const d = new DirNode(dir);
      link(dir, name, d);
      this.list(d, place.path);
      return;
    }
    if (node instanceof HomeFile) return node.seen(place.path, s.size);
    if (node instanceof DirNode && node.entries.size > 0) return;
    // New here, or a file this process wrote in from elsewhere (its bytes are in the home now).
    if (node !== undefined) unlink(dir, name);
    link(dir, name, new HomeFile(this.ch, place.path, s.size));
  }

  create(place: HomePlace): FileNode | Errno {
    const r = this.ch.ask({ op: 'open', path: place.path, create: true, trunc: false });
    if (typeof r === 'number') return r;
    const f = new HomeFile(this.ch, place.path, 0);
    f.acquire(false, (r.value as { id: number }).id);
    return f;
  }

  opened(fd: OpenFile, place: HomePlace, made: boolean, trunc: boolean): Errno {
    const node = fd.node;
    fd.home = { place, mtim: 0n };
    if (!(node instanceof HomeFile)) return wasi.ERRNO_SUCCESS;
    // The use `create` took is this descriptor's.
    return made ? wasi.ERRNO_SUCCESS : node.acquire(trunc);
  }

  keep(fd: OpenFile, closing: boolean): Errno {
    const node = fd.node;
    if (!(node instanceof HomeFile)) return wasi.ERRNO_SUCCESS;
    return closing ? node.release() : node.commit();
  }

  mkdir(place: HomePlace): Errno {
    const r = this.ch.ask({ op: 'mkdir', path: place.path });
    return typeof r === 'number' ? r : wasi.ERRNO_SUCCESS;
  }

  remove(place: HomePlace): Errno {
    const r = this.ch.ask({ op: 'remove', path: place.path });
    return typeof r === 'number' ? r : wasi.ERRNO_SUCCESS;
  }

  move(from: HomePlace, to: HomePlace, node: Inode): Errno {
    const r = this.ch.ask({ op: 'rename', from: from.path, to: to.path });
    if (typeof r === 'number') return r;
    // The files under the new name are asked for by it from now on.
    const walk = (n: Inode, path: string): void => {
      if (n instanceof HomeFile) n.path = path;
      if (n instanceof DirNode) for (const [name, child] of n.entries) walk(child, `${path}/${name}`);
    };
    walk(node, to.path);
    return wasi.ERRNO_SUCCESS;
  }

  write(place: HomePlace, node: Inode): Errno {
    if (node instanceof DirNode) {
      const err = this.mkdir(place);
      if (err !== wasi.ERRNO_SUCCESS) return err;
      for (const [name, child] of node.entries) {
        const e = this.write({ keeper: this, path: `${place.path}/${name}` }, child);
        if (e !== wasi.ERRNO_SUCCESS) return e;
      }
      return wasi.ERRNO_SUCCESS;
    }
    if (!(node instanceof FileNode)) return wasi.ERRNO_NOTSUP;
    const r = this.ch.ask({ op: 'open', path: place.path, create: true, trunc: true });
    if (typeof r === 'number') return r;
    const id = (r.value as { id: number }).id;
    let err = this.ch.write(id, 0, node.bytes());
    if (err === wasi.ERRNO_SUCCESS) err = this.ch.flush(id);
    if (err === wasi.ERRNO_SUCCESS) {
      const c = this.ch.ask({ op: 'commit', id });
      if (typeof c === 'number') err = c;
    }
    this.ch.ask({ op: 'close', id });
    return err;
  }
}

/** Copies a home file, or a directory with all under it, into memory (a rename out of the home). */
export function materialize(node: Inode): Inode {
  if (node instanceof HomeFile) return new FileNode(node.bytes());
  if (node instanceof DirNode) {
    for (const [name, child] of [...node.entries]) {
      const copy = materialize(child);
      if (copy === child) continue;
      unlink(node, name);
      link(node, name, copy);
    }
  }
  return node;
}
