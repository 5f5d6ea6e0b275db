/**
 * A module's home, as its process sees it: an in-memory tree (vfs.ts) loaded from the home at
 * start, kept in step with the home by blocking kernel calls (ADR 0018). Opening a file reads
 * it anew (another process may have written it); closing or syncing a file written through the
 * descriptor writes it back whole; made and removed entries are made and removed there too.
 * Links cannot be kept in a home: ENOTSUP.
 */
import { wasi } from '@bjorn3/browser_wasi_shim';
import { isKernelError } from '../../common';
import { DirNode, FileNode, link, resolve, type Base, type Errno, type Inode } from './vfs';

/** Calls the kernel and blocks until it answers; throws a KernelError on refusal. */
export type KernelCall = (call: string, args: unknown) => unknown;

/** A place in a home: the call that reaches it and its path there. */
export interface HomePlace {
  call: KernelCall;
  path: string;
}

const homes = new WeakMap<DirNode, KernelCall>();

/** Makes the tree under `root` a home, kept through `call`. */
export function keepAsHome(root: DirNode, call: KernelCall): void {
  homes.set(root, call);
}

/** Where the entry `name` of `dir` is in a home, or undefined outside every home. */
export function homePlace(dir: DirNode, name: string): HomePlace | undefined {
  const names = name === '.' ? [] : [name];
  for (let d = dir; ; d = d.parent) {
    const call = homes.get(d);
    if (call !== undefined) return names.length === 0 ? undefined : { call, path: names.join('/') };
    if (d.parent === d) return undefined;
    const entry = [...d.parent.entries].find(([, n]) => n === d);
    if (entry === undefined) return undefined; // removed meanwhile
    names.unshift(entry[0]);
  }
}

/** Where `path` under `base` is in a home (its last link not followed). */
export function homePlaceOf(base: Base, path: string): HomePlace | undefined {
  const f = resolve(base, path, false);
  return typeof f === 'number' ? undefined : homePlace(f.parent, f.name);
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

/** Writes a file back whole. */
export function writeBack(place: HomePlace, node: FileNode): Errno {
  return attempt(() => place.call('home.write', { path: place.path, bytes: node.bytes().slice() }));
}

/** What `keepFile` needs of an open file: its inode and where it is in a home. */
export interface KeptFile {
  node: FileNode;
  home?: { place: HomePlace; mtim: bigint };
}

/** Writes an open home file back if it changed since it last matched the home. */
export function keepFile(f: KeptFile): Errno {
  const h = f.home;
  if (h === undefined || h.mtim === f.node.mtim) return wasi.ERRNO_SUCCESS;
  const err = writeBack(h.place, f.node);
  if (err === wasi.ERRNO_SUCCESS) h.mtim = f.node.mtim;
  return err;
}

/** Makes a directory there. */
export function makeDirectory(place: HomePlace): Errno {
  return attempt(() => place.call('home.mkdir', { path: place.path }));
}

/** Removes an entry there. */
export function remove(place: HomePlace): Errno {
  return attempt(() => place.call('home.remove', { path: place.path }));
}

/** Writes a file or a directory with everything under it (a rename into a home). */
export function writeTree(place: HomePlace, node: Inode): Errno {
  if (node instanceof FileNode) return writeBack(place, node);
  if (!(node instanceof DirNode)) return wasi.ERRNO_NOTSUP;
  const err = makeDirectory(place);
  if (err !== wasi.ERRNO_SUCCESS) return err;
  for (const [name, child] of node.entries) {
    const e = writeTree({ call: place.call, path: `${place.path}/${name}` }, child);
    if (e !== wasi.ERRNO_SUCCESS) return e;
  }
  return wasi.ERRNO_SUCCESS;
}

/**
 * Reads `name` of `dir` anew before an open: its bytes replace what this process had (or it
 * appears, made by another process). A file too large to come through a call, or a read that
 * fails, leaves what this process has.
 */
export function refresh(place: HomePlace, dir: DirNode, name: string, node: Inode | undefined): void {
  if (node !== undefined && !(node instanceof FileNode)) return;
  let answer: unknown;
  try {
    answer = place.call('home.read', { path: place.path });
  } catch {
    return;
  }
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
