/**
 * The in-memory file system a process's preopens share: inodes (files, directories, symbolic
 * links) with link counts and nanosecond times, and POSIX path resolution inside a sandbox root.
 * Every operation answers a WASI errno, never throws. Hard links are entries sharing an inode.
 */
import { wasi } from '@bjorn3/browser_wasi_shim';

/** Errors are WASI errno values; success is `wasi.ERRNO_SUCCESS` (0). */
export type Errno = number;

/** Links followed in one resolution before it answers ELOOP (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/** The largest file: what one buffer holds in every engine. */
export const MAX_FILE_SIZE = 2 ** 31 - 1;

/** Wall-clock time in nanoseconds since the epoch. */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

let nextIno = 1n;

/** What every inode has: a number, a link count and times (ns). */
abstract class Node {
  readonly ino = nextIno++;
  nlink = 0n;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  abstract readonly filetype: number;
  constructor() {
    this.atim = this.mtim = this.ctim = nowNs();
  }
  /** Marks the content changed. */
  touch(): void {
    this.mtim = this.ctim = nowNs();
  }
  abstract size(): bigint;
}

/**
 * A regular file; its bytes grow in a buffer of spare capacity, like a vector. A home kept in OPFS
 * has its own kind (home-opfs.ts), whose bytes stay in the home: the methods below are its surface.
 */
export class FileNode extends Node {
  readonly filetype = wasi.FILETYPE_REGULAR_FILE;
  private buf: Uint8Array;
  private len: number;
  constructor(data: Uint8Array = new Uint8Array(0)) {
    super();
    this.buf = data.slice();
    this.len = data.length;
  }
  /** Its length in bytes. */
  get length(): number {
    return this.len;
  }
  size(): bigint {
    return BigInt(this.length);
  }
  /** The file's bytes (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  /** Copies bytes from `at` into `dst`; answers how many (fewer at the end). */
  readAt(at: number, dst: Uint8Array): number {
    const chunk = this.buf.subarray(Math.min(at, this.len), Math.min(at + dst.length, this.len));
    dst.set(chunk);
    return chunk.length;
  }
  /** Sets the length, zero-filling what it adds; EFBIG past the limit, ENOSPC when memory runs out. */
  truncate(length: number): Errno {
    if (length > MAX_FILE_SIZE) return wasi.ERRNO_FBIG;
    if (length > this.buf.length && !this.grow(length)) return wasi.ERRNO_NOSPC;
    if (length > this.len) this.buf.fill(0, this.len, length);
    else this.buf.fill(0, length, this.len);
    this.len = length;
    this.touch();
    return wasi.ERRNO_SUCCESS;
  }
  /** Copies `data` in at `offset`, extending the file (with zeros between) where it must. */
  write(offset: number, data: Uint8Array): Errno {
    const end = offset + data.length;
    if (end > MAX_FILE_SIZE) return wasi.ERRNO_FBIG;
    if (end > this.buf.length && !this.grow(end)) return wasi.ERRNO_NOSPC;
    if (offset > this.len) this.buf.fill(0, this.len, offset);
    this.buf.set(data, offset);
    if (end > this.len) this.len = end;
    this.touch();
    return wasi.ERRNO_SUCCESS;
  }
  private grow(min: number): boolean {
    try {
      const next = new Uint8Array(Math.max(min, Math.min(this.buf.length * 2, MAX_FILE_SIZE), 64));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
      return true;
    } catch (e) {
      if (e instanceof RangeError) return false; // the allocation failed
      throw e;
    }
  }
}

/** A directory: named entries, in the order they were made, and its parent. */
export class DirNode extends Node {
  readonly filetype = wasi.FILETYPE_DIRECTORY;
  readonly entries = new Map<string, Inode>();
  parent: DirNode;
  constructor(parent?: DirNode) {
    super();
    this.parent = parent ?? this;
    // `.`; a root, which no entry names, counts its own `..` too.
    this.nlink = parent === undefined ? 2n : 1n;
  }
  size(): bigint {
    return BigInt(this.entries.size);
  }
}

/** A symbolic link: its target, as written, resolved only when followed. */
export class LinkNode extends Node {
  readonly filetype = wasi.FILETYPE_SYMBOLIC_LINK;
  constructor(readonly target: string) {
    super();
  }
  size(): bigint {
    return BigInt(new TextEncoder().encode(this.target).length);
  }
}

/** Any inode. */
export type Inode = FileNode | DirNode | LinkNode;

/** Where a path leads: the directory holding its last name, the name, and what is there. */
export interface Found {
  parent: DirNode;
  /** The last name; `.` when the path ends in `.` or `..` (then `node` is that directory). */
  name: string;
  node: Inode | undefined;
  /** The path ended in `/`: what is there must be a directory. */
  slash: boolean;
}

/** A place to resolve from: the directory, and the sandbox root `..` may not leave. */
export interface Base {
  dir: DirNode;
  root: DirNode;
}

/**
 * Resolves `path` from `base`. Symbolic links before the last name are always followed; the last
 * one only with `follow` (or when the path ends in `/`). Absolute paths and escapes from the root
 * are ENOTCAPABLE; more than 40 links ELOOP.
 */
export function resolve(base: Base, path: string, follow: boolean): Found | Errno {
  if (path === '') return wasi.ERRNO_NOENT;
  if (path.startsWith('/')) return wasi.ERRNO_NOTCAPABLE;
  let slash = path.endsWith('/');
  const parts = path.split('/').filter((p) => p !== '');
  let dir = base.dir;
  let links = 0;
  for (;;) {
    const name = parts.shift();
    if (name === undefined) return { parent: dir, name: '.', node: dir, slash };
    const last = parts.length === 0;
    if (name === '.' || name === '..') {
      if (name === '..') {
        if (dir === base.root) return wasi.ERRNO_NOTCAPABLE;
        dir = dir.parent;
      }
      if (last) return { parent: dir, name: '.', node: dir, slash };
      continue;
    }
    const node = dir.entries.get(name);
    if (node instanceof LinkNode && (!last || follow || slash)) {
      if (++links > MAX_LINKS) return wasi.ERRNO_LOOP;
      if (node.target.startsWith('/')) return wasi.ERRNO_NOTCAPABLE;
      if (node.target === '') return wasi.ERRNO_NOENT;
      if (last && node.target.endsWith('/')) slash = true;
      parts.unshift(...node.target.split('/').filter((p) => p !== ''));
      if (parts.length === 0) parts.push('.');
      continue;
    }
    if (last) return { parent: dir, name, node, slash };
    if (node === undefined) return wasi.ERRNO_NOENT;
    if (!(node instanceof DirNode)) return wasi.ERRNO_NOTDIR;
    dir = node;
  }
}

/** Resolves to an existing inode (ENOENT, or ENOTDIR for a non-directory before a `/`). */
export function lookup(base: Base, path: string, follow: boolean): Inode | Errno {
  const f = resolve(base, path, follow);
  if (typeof f === 'number') return f;
  if (f.node === undefined) return wasi.ERRNO_NOENT;
  if (f.slash && !(f.node instanceof DirNode)) return wasi.ERRNO_NOTDIR;
  return f.node;
}

/** Adds `node` to `dir` as `name` (which must be free). */
export function link(dir: DirNode, name: string, node: Inode): void {
  dir.entries.set(name, node);
  node.nlink++;
  if (node instanceof DirNode) {
    node.parent = dir;
    dir.nlink++;
  }
  node.ctim = nowNs();
  dir.touch();
}

/** Removes the entry `name` from `dir`. */
export function unlink(dir: DirNode, name: string): void {
  const node = dir.entries.get(name);
  if (node === undefined) return;
  dir.entries.delete(name);
  node.nlink--;
  if (node instanceof DirNode) {
    node.nlink--;
    dir.nlink--;
  }
  node.ctim = nowNs();
  dir.touch();
}

/** `mkdir`: EEXIST where anything (even a dangling link) has the name. */
export function createDirectory(base: Base, path: string): Errno {
  const f = resolve(base, path, false);
  if (typeof f === 'number') return f;
  if (f.node !== undefined) return wasi.ERRNO_EXIST;
  const dir = new DirNode(f.parent);
  link(f.parent, f.name, dir);
  return wasi.ERRNO_SUCCESS;
}

/** `rmdir`: the path must name an empty directory, not a link to one. */
export function removeDirectory(base: Base, path: string): Errno {
  const f = resolve(base, path, false);
  if (typeof f === 'number') return f;
  if (f.node === undefined) return wasi.ERRNO_NOENT;
  if (!(f.node instanceof DirNode)) return wasi.ERRNO_NOTDIR;
  if (f.name === '.') return f.node === base.root ? wasi.ERRNO_BUSY : wasi.ERRNO_INVAL;
  if (f.node.entries.size > 0) return wasi.ERRNO_NOTEMPTY;
  unlink(f.parent, f.name);
  return wasi.ERRNO_SUCCESS;
}

/** `unlink`: removes a name of a file or link; a directory is EISDIR, a trailing `/` ENOTDIR. */
export function unlinkFile(base: Base, path: string): Errno {
  const f = resolve(base, path, false);
  if (typeof f === 'number') return f;
  if (f.node === undefined) return wasi.ERRNO_NOENT;
  if (f.node instanceof DirNode) return wasi.ERRNO_ISDIR;
  if (f.slash) return wasi.ERRNO_NOTDIR;
  unlink(f.parent, f.name);
  return wasi.ERRNO_SUCCESS;
}

/**
 * `symlink`: makes `path` a link to `target` (which need not exist). An absolute target could
 * never be followed inside the sandbox: ENOTCAPABLE, as wasmtime answers.
 */
export function symlink(target: string, base: Base, path: string): Errno {
  if (target.startsWith('/')) return wasi.ERRNO_NOTCAPABLE;
  if (target === '') return wasi.ERRNO_NOENT;
  const f = resolve(base, path, false);
  if (typeof f === 'number') return f;
  if (f.node !== undefined) return wasi.ERRNO_EXIST;
  if (f.slash) return wasi.ERRNO_NOENT;
  link(f.parent, f.name, new LinkNode(target));
  return wasi.ERRNO_SUCCESS;
}

/** `link`: a second name for a file or link (never a directory: EPERM). */
export function hardLink(from: Base, fromPath: string, to: Base, toPath: string): Errno {
  const src = resolve(from, fromPath, false);
  if (typeof src === 'number') return src;
  if (src.node === undefined) return wasi.ERRNO_NOENT;
  if (src.node instanceof DirNode) return wasi.ERRNO_PERM;
  if (src.slash) return wasi.ERRNO_NOTDIR;
  const dst = resolve(to, toPath, false);
  if (typeof dst === 'number') return dst;
  if (dst.node !== undefined) return wasi.ERRNO_EXIST;
  if (dst.slash) return wasi.ERRNO_NOENT;
  link(dst.parent, dst.name, src.node);
  return wasi.ERRNO_SUCCESS;
}

/** `rename(2)`, atomically replacing what the new name held where POSIX allows it. */
export function rename(from: Base, fromPath: string, to: Base, toPath: string): Errno {
  const src = resolve(from, fromPath, false);
  if (typeof src === 'number') return src;
  const dst = resolve(to, toPath, false);
  if (typeof dst === 'number') return dst;
  const node = src.node;
  if (node === undefined) return wasi.ERRNO_NOENT;
  if (src.name === '.' || dst.name === '.') return wasi.ERRNO_BUSY;
  const isDir = node instanceof DirNode;
  if (!isDir && (src.slash || dst.slash)) return wasi.ERRNO_NOTDIR;
  const old = dst.node;
  if (old === node) return wasi.ERRNO_SUCCESS;
  if (old !== undefined) {
    if (isDir && !(old instanceof DirNode)) return wasi.ERRNO_NOTDIR;
    if (!isDir && old instanceof DirNode) return wasi.ERRNO_ISDIR;
    if (old instanceof DirNode && old.entries.size > 0) return wasi.ERRNO_NOTEMPTY;
  }
  if (isDir) {
    for (let d: DirNode = dst.parent; ; d = d.parent) {
      if (d === node) return wasi.ERRNO_INVAL; // into itself
      if (d.parent === d) break;
    }
  }
  if (old !== undefined) unlink(dst.parent, dst.name);
  unlink(src.parent, src.name);
  link(dst.parent, dst.name, node);
  return wasi.ERRNO_SUCCESS;
}

/** `readlink`: the target of the link `path` names (EINVAL if it is not a link). */
export function readlink(base: Base, path: string): string | Errno {
  const f = resolve(base, path, false);
  if (typeof f === 'number') return f;
  if (f.node === undefined) return wasi.ERRNO_NOENT;
  if (!(f.node instanceof LinkNode) || f.slash) return wasi.ERRNO_INVAL;
  return f.node.target;
}

/**
 * Sets an inode's times as `fd_filestat_set_times` says: a time given, or now; both forms for
 * one time at once, or an unknown flag, are EINVAL and change nothing.
 */
export function setTimes(node: Inode, atim: bigint, mtim: bigint, flags: number): Errno {
  const known = wasi.FSTFLAGS_ATIM | wasi.FSTFLAGS_ATIM_NOW | wasi.FSTFLAGS_MTIM | wasi.FSTFLAGS_MTIM_NOW;
  if ((flags & ~known) !== 0) return wasi.ERRNO_INVAL;
  if ((flags & wasi.FSTFLAGS_ATIM) !== 0 && (flags & wasi.FSTFLAGS_ATIM_NOW) !== 0) return wasi.ERRNO_INVAL;
  if ((flags & wasi.FSTFLAGS_MTIM) !== 0 && (flags & wasi.FSTFLAGS_MTIM_NOW) !== 0) return wasi.ERRNO_INVAL;
  const now = nowNs();
  if ((flags & wasi.FSTFLAGS_ATIM) !== 0) node.atim = atim;
  if ((flags & wasi.FSTFLAGS_ATIM_NOW) !== 0) node.atim = now;
  if ((flags & wasi.FSTFLAGS_MTIM) !== 0) node.mtim = mtim;
  if ((flags & wasi.FSTFLAGS_MTIM_NOW) !== 0) node.mtim = now;
  node.ctim = now;
  return wasi.ERRNO_SUCCESS;
}

/** A `filestat`, as the guest sees it. */
export interface Stat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

/** The one device every inode of this file system is on. */
export const DEV = 1n;

/** An inode's `filestat`. */
export function stat(node: Inode): Stat {
  return { dev: DEV, ino: node.ino, filetype: node.filetype, nlink: node.nlink, size: node.size(), atim: node.atim, mtim: node.mtim, ctim: node.ctim };
}
