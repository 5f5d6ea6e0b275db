/**
 * The guest's side of the file system's imports: its memory (paths, iovecs, stat records) and its
 * descriptor table. Reading or writing outside the memory throws a RangeError, which the caller
 * answers with EFAULT.
 */
import { wasi, type Fd } from '@bjorn3/browser_wasi_shim';
import * as vfs from './vfs';
import { DirFd, FileFd } from './vfs-fd';

/** The guest's memory, read anew at each call (it may have grown). */
export type Memory = () => ArrayBuffer | SharedArrayBuffer;
/** The process's descriptor table, shared with the shim. */
export type Table = () => Array<Fd | undefined>;
/** Imports by name. */
export type Imports = Record<string, (...args: never[]) => number>;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Helpers over one guest's memory and table. */
export type Guest = ReturnType<typeof guestOf>;

/** Builds the helpers the fd and path imports share. */
export function guestOf(memory: Memory, table: Table) {
  const view = (): DataView => new DataView(memory());
  const path = (ptr: number, len: number): string | vfs.Errno => {
    try {
      return decoder.decode(new Uint8Array(memory(), ptr, len).slice());
    } catch (e) {
      if (e instanceof RangeError) throw e; // a fault: the caller answers EFAULT
      return wasi.ERRNO_ILSEQ;
    }
  };
  const dirAt = (fd: number): DirFd | vfs.Errno => {
    const f = table()[fd];
    if (f === undefined) return wasi.ERRNO_BADF;
    return f instanceof DirFd ? f : wasi.ERRNO_NOTDIR;
  };
  /** Lowest free descriptor from 3, as POSIX hands them out. */
  const place = (f: Fd): number => {
    const fds = table();
    let n = 3;
    while (fds[n] !== undefined) n++;
    fds[n] = f;
    return n;
  };
  const iovecs = (ptr: number, len: number): Array<[number, number]> => {
    const v = view();
    const out: Array<[number, number]> = [];
    for (let i = 0; i < len; i++) out.push([v.getUint32(ptr + i * 8, true), v.getUint32(ptr + i * 8 + 4, true)]);
    return out;
  };
  /** Reads from `node` at `at` into the iovecs; answers the count. */
  const readInto = (node: vfs.FileNode, at: number, iovs: number, iovsLen: number): number => {
    let total = 0;
    for (const [ptr, len] of iovecs(iovs, iovsLen)) {
      const n = node.readAt(at, new Uint8Array(memory(), ptr, len));
      total += n;
      at += n;
      if (n < len) break;
    }
    return total;
  };
  /** Writes the iovecs to `node` at `at`; answers the count, or an errno if nothing was written. */
  const writeFrom = (node: vfs.FileNode, at: number, iovs: number, iovsLen: number): { n: number } | vfs.Errno => {
    let total = 0;
    for (const [ptr, len] of iovecs(iovs, iovsLen)) {
      // A view of the guest's memory: the file copies it (nothing the guest runs meanwhile).
      const err = node.write(at, new Uint8Array(memory(), ptr, len));
      if (err !== wasi.ERRNO_SUCCESS) return total === 0 ? err : { n: total };
      at += len;
      total += len;
    }
    return { n: total };
  };
  const writeStat = (ptr: number, s: vfs.Stat): void => {
    const v = view();
    v.setBigUint64(ptr, s.dev, true);
    v.setBigUint64(ptr + 8, s.ino, true);
    v.setUint8(ptr + 16, s.filetype);
    v.setBigUint64(ptr + 24, s.nlink, true);
    v.setBigUint64(ptr + 32, s.size, true);
    v.setBigUint64(ptr + 40, s.atim, true);
    v.setBigUint64(ptr + 48, s.mtim, true);
    v.setBigUint64(ptr + 56, s.ctim, true);
  };
  const file = (fd: number): FileFd | vfs.Errno | undefined => {
    const f = table()[fd];
    if (f === undefined) return wasi.ERRNO_BADF;
    if (f instanceof DirFd) return wasi.ERRNO_ISDIR;
    return f instanceof FileFd ? f : undefined;
  };
  const u64 = (v: bigint): number => Number(BigInt.asUintN(64, v));
  return { memory, table, view, path, dirAt, place, iovecs, readInto, writeFrom, writeStat, file, u64 };
}
