/**
 * Directories kept beyond a process's run, as its in-memory tree (vfs.ts) sees them: a module's
 * home, kept in OPFS by the file server (home-opfs.ts, ADR 0025), and a folder the person picked,
 * kept by the page (this file's PageKeeper, ADR 0018/0024). The tree holds the names; a keeper is
 * told of each change and brings an entry up to date before it is opened (another process may
 * have changed it). Links cannot be kept: ENOTSUP.
 */
import { wasi } from '@bjorn3/browser_wasi_shim';
import { isKernelError } from '../../common';
import { DirNode, FileNode, link, resolve, type Base, type Errno, type Inode } from './vfs';

/** Calls the kernel and blocks until it answers; throws a KernelError on refusal. */
export type KernelCall = (call: string, args: unknown) => unknown;

/** An open file as a keeper sees it: its inode, and where it is kept (set by the keeper at open). */
export interface OpenFile {
  readonly node: FileNode;
  home?: { place: HomePlace; mtim: bigint };
}

/** What keeps a directory tree beyond the run: told of every change made under it. */
export interface Keeper {
  /** Before an open: brings entry `name` of `dir` in step with what is kept. */
  refresh(place: HomePlace, dir: DirNode, name: string, node: Inode | undefined): void;
  /** A new file an open makes there (ENOSPC, EIO when it cannot be made). */
  create(place: HomePlace): FileNode | Errno;
  /** An open of a file there (`made` by it; `trunc`: to be emptied, which the keeper does). */
  opened(fd: OpenFile, place: HomePlace, made: boolean, trunc: boolean): Errno;
  /** A file's changes kept (fsync; `closing`: its close, after which the descriptor is gone). */
  keep(fd: OpenFile, closing: boolean): Errno;
  mkdir(place: HomePlace): Errno;
  remove(place: HomePlace): Errno;
  /** A file or a directory with all under it written there (a rename into it from elsewhere). */
  write(place: HomePlace, node: Inode): Errno;
  /** A rename of `node` inside it; undefined where the keeper has none (then: write the new, remove the old). */
  move?(from: HomePlace, to: HomePlace, node: Inode): Errno;
}

/** A place in a kept tree: its keeper and its path there. */
export interface HomePlace {
  keeper: Keeper;
  path: string;
}

const kept = new WeakMap<DirNode, Keeper>();

/** Makes the tree under `root` kept by `keeper`. */
export function keepTree(root: DirNode, keeper: Keeper): void {
  kept.set(root, keeper);
}

/** Where the entry `name` of `dir` is in a kept tree, or undefined outside every one. */
export function homePlace(dir: DirNode, name: string): HomePlace | undefined {
  const names = name === '.' ? [] : [name];
  for (let d = dir; ; d = d.parent) {
    const keeper = kept.get(d);
    if (keeper !== undefined) return names.length === 0 ? undefined : { keeper, path: names.join('/') };
    if (d.parent === d) return undefined;
    const entry = [...d.parent.entries].find(([, n]) => n === d);
    if (entry === undefined) return undefined; // removed meanwhile
    names.unshift(entry[0]);
  }
}

/** Where `path` under `base` is in a kept tree (its last link not followed). */
export function homePlaceOf(base: Base, path: string): HomePlace | undefined {
  const f = resolve(base, path, false);
  return typeof f === 'number' ? undefined : homePlace(f.parent, f.name);
}

/** A file's changes kept by its keeper, if it is in a kept tree. */
export function keepFile(fd: OpenFile, closing: boolean): Errno {
  return fd.home?.place.keeper.keep(fd, closing) ?? wasi.ERRNO_SUCCESS;
}

/** Runs a kernel call; a refusal is an errno (a full disk ENOSPC). */
function attempt(f: () => unknown): Errno {
  try {
    f();
    return wasi.ERRNO_SUCCESS;
  } catch (e) {
    if (isKernelError(e, 'kernel/no-space')) return wasi.ERRNO_NOSPC;
    if (isKernelError(e, 'kernel/bad-argument')) return wasi.ERRNO_INVAL;
    return wasi.ERRNO_IO;
  }
}

/**
 * A tree kept by the page through blocking kernel calls (ADR 0018, 0024: a picked folder, whose
 * handle a worker cannot use synchronously). Loaded whole at spawn; a file is read anew at open
 * and written back whole at close when it changed.
 */
export class PageKeeper implements Keeper {
  constructor(private readonly call: KernelCall) {}

  private writeBack(path: string, node: FileNode): Errno {
    return attempt(() => this.call('home.write', { path, bytes: node.bytes().slice() }));
  }

  refresh(place: HomePlace, dir: DirNode, name: string, node: Inode | undefined): void {
    if (node !== undefined && !(node instanceof FileNode)) return;
    let answer: unknown;
    try {
      answer = this.call('home.read', { path: place.path });
    } catch {
      return;
    }
    // Too large a file to come through a call, or a read that failed, leaves what this process has.
    if (typeof answer !== 'string') return;
    const bin = atob(answer);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    if (node === undefined) {
      link(dir, name, new FileNode(bytes));
      return;
    }
    if (node.length === bytes.length && node.bytes().every((b, i) => b === bytes[i])) return;
    node.truncate(0);
    node.write(0, bytes);
  }

  create(): FileNode {
    return new FileNode();
  }

  opened(fd: OpenFile, place: HomePlace, made: boolean, trunc: boolean): Errno {
    if (trunc && fd.node.length > 0) fd.node.truncate(0);
    // A file made or emptied here is written back at close even if nothing is written to it.
    fd.home = { place, mtim: made || trunc ? -1n : fd.node.mtim };
    return wasi.ERRNO_SUCCESS;
  }

  keep(fd: OpenFile): Errno {
    const h = fd.home;
    if (h === undefined || h.mtim === fd.node.mtim) return wasi.ERRNO_SUCCESS;
    const err = this.writeBack(h.place.path, fd.node);
    if (err === wasi.ERRNO_SUCCESS) h.mtim = fd.node.mtim;
    return err;
  }

  mkdir(place: HomePlace): Errno {
    return attempt(() => this.call('home.mkdir', { path: place.path }));
  }

  remove(place: HomePlace): Errno {
    return attempt(() => this.call('home.remove', { path: place.path }));
  }

  write(place: HomePlace, node: Inode): Errno {
    if (node instanceof FileNode) return this.writeBack(place.path, node);
    if (!(node instanceof DirNode)) return wasi.ERRNO_NOTSUP;
    const err = this.mkdir(place);
    if (err !== wasi.ERRNO_SUCCESS) return err;
    for (const [name, child] of node.entries) {
      const e = this.write({ keeper: this, path: `${place.path}/${name}` }, child);
      if (e !== wasi.ERRNO_SUCCESS) return e;
    }
    return wasi.ERRNO_SUCCESS;
  }
}
