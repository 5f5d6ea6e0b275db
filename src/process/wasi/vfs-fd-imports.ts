/**
 * The preview1 `fd_*` imports over the in-memory file system. A descriptor that is not the file
 * system's (the stdio streams) goes to `other`, the shim's import of the same name.
 */
import { wasi } from '@bjorn3/browser_wasi_shim';
import * as vfs from './vfs';
import { DirFd, FileFd } from './vfs-fd';
import type { Guest, Imports } from './vfs-guest';
import { keepFile } from './home';

/** The shim's import of a name, for descriptors that are not the file system's. */
export type Other = (name: string, ...args: Array<number | bigint>) => number;

const encoder = new TextEncoder();
const DIRENT_SIZE = 24;

/** The `fd_*` imports. */
export function fdImports(g: Guest, other: Other): Imports {
  const { memory, table, view, readInto, writeFrom, writeStat, file, u64 } = g;
  const sync = (fd: number, name: 'fd_sync' | 'fd_datasync'): number => {
    const f = table()[fd];
    if (f instanceof FileFd) return keepFile(f, false);
    return f instanceof DirFd ? wasi.ERRNO_SUCCESS : other(name, fd);
  };
  return {
    fd_read: (fd: number, iovs: number, iovsLen: number, nreadPtr: number) => {
      const f = file(fd);
      if (f === undefined) return other('fd_read', fd, iovs, iovsLen, nreadPtr);
      if (typeof f === 'number') return f;
      if (!f.can(wasi.RIGHTS_FD_READ)) return wasi.ERRNO_BADF;
      const n = readInto(f.node, f.position, iovs, iovsLen);
      f.position += n;
      view().setUint32(nreadPtr, n, true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_pread: (fd: number, iovs: number, iovsLen: number, offset: bigint, nreadPtr: number) => {
      const f = file(fd);
      if (f === undefined) return other('fd_pread', fd, iovs, iovsLen, offset, nreadPtr);
      if (typeof f === 'number') return f;
      if (!f.can(wasi.RIGHTS_FD_READ)) return wasi.ERRNO_BADF;
      view().setUint32(nreadPtr, readInto(f.node, u64(offset), iovs, iovsLen), true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
      const f = file(fd);
      if (f === undefined) return other('fd_write', fd, iovs, iovsLen, nwrittenPtr);
      if (typeof f === 'number') return f;
      if (!f.can(wasi.RIGHTS_FD_WRITE)) return wasi.ERRNO_BADF;
      if ((f.flags & wasi.FDFLAGS_APPEND) !== 0) f.position = f.node.length;
      const w = writeFrom(f.node, f.position, iovs, iovsLen);
      if (typeof w === 'number') return w;
      f.position += w.n;
      view().setUint32(nwrittenPtr, w.n, true);
      return wasi.ERRNO_SUCCESS;
    },
    // POSIX: pwrite writes at the offset it is given, O_APPEND or not, and moves no offset.
    fd_pwrite: (fd: number, iovs: number, iovsLen: number, offset: bigint, nwrittenPtr: number) => {
      const f = file(fd);
      if (f === undefined) return other('fd_pwrite', fd, iovs, iovsLen, offset, nwrittenPtr);
      if (typeof f === 'number') return f;
      if (!f.can(wasi.RIGHTS_FD_WRITE)) return wasi.ERRNO_BADF;
      const w = writeFrom(f.node, u64(offset), iovs, iovsLen);
      if (typeof w === 'number') return w;
      view().setUint32(nwrittenPtr, w.n, true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_seek: (fd: number, offset: bigint, whence: number, outPtr: number) => {
      const f = file(fd);
      if (f === undefined) return other('fd_seek', fd, offset, whence, outPtr);
      if (typeof f === 'number') return f === wasi.ERRNO_ISDIR ? wasi.ERRNO_BADF : f;
      const from = whence === wasi.WHENCE_SET ? 0n : whence === wasi.WHENCE_CUR ? BigInt(f.position) : whence === wasi.WHENCE_END ? f.node.size() : -1n;
      if (from < 0n) return wasi.ERRNO_INVAL;
      const to = from + offset;
      if (to < 0n) return wasi.ERRNO_INVAL;
      f.position = Number(to);
      view().setBigUint64(outPtr, to, true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_tell: (fd: number, outPtr: number) => {
      const f = file(fd);
      if (f === undefined) return other('fd_tell', fd, outPtr);
      if (typeof f === 'number') return f === wasi.ERRNO_ISDIR ? wasi.ERRNO_BADF : f;
      view().setBigUint64(outPtr, BigInt(f.position), true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_advise: (fd: number, _offset: bigint, _len: bigint, advice: number) => {
      const f = file(fd);
      if (f === undefined) return other('fd_advise', fd, _offset, _len, advice);
      if (typeof f === 'number') return f === wasi.ERRNO_ISDIR ? wasi.ERRNO_BADF : f;
      return advice >= 0 && advice <= wasi.ADVICE_NOREUSE ? wasi.ERRNO_SUCCESS : wasi.ERRNO_INVAL;
    },
    fd_allocate: (fd: number, offset: bigint, len: bigint) => {
      const f = file(fd);
      if (f === undefined) return other('fd_allocate', fd, offset, len);
      if (typeof f === 'number') return f === wasi.ERRNO_ISDIR ? wasi.ERRNO_BADF : f;
      if (!f.can(wasi.RIGHTS_FD_WRITE)) return wasi.ERRNO_BADF;
      const end = u64(offset) + u64(len);
      return end > f.node.length ? f.node.truncate(end) : wasi.ERRNO_SUCCESS;
    },
    fd_filestat_set_size: (fd: number, size: bigint) => {
      const f = file(fd);
      if (f === undefined) return other('fd_filestat_set_size', fd, size);
      if (typeof f === 'number') return f === wasi.ERRNO_ISDIR ? wasi.ERRNO_BADF : f;
      if (!f.can(wasi.RIGHTS_FD_WRITE) && !f.can(wasi.RIGHTS_FD_FILESTAT_SET_SIZE)) return wasi.ERRNO_BADF;
      return f.node.truncate(u64(size));
    },
    fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, flags: number) => {
      const f = table()[fd];
      if (f instanceof FileFd || f instanceof DirFd) return vfs.setTimes(f.node, BigInt.asUintN(64, atim), BigInt.asUintN(64, mtim), flags);
      return other('fd_filestat_set_times', fd, atim, mtim, flags);
    },
    fd_filestat_get: (fd: number, ptr: number) => {
      const f = table()[fd];
      if (!(f instanceof FileFd || f instanceof DirFd)) return other('fd_filestat_get', fd, ptr);
      writeStat(ptr, vfs.stat(f.node));
      return wasi.ERRNO_SUCCESS;
    },
    fd_fdstat_get: (fd: number, ptr: number) => {
      const f = table()[fd];
      if (!(f instanceof FileFd || f instanceof DirFd)) return other('fd_fdstat_get', fd, ptr);
      const v = view();
      v.setUint8(ptr, f.node.filetype);
      v.setUint16(ptr + 2, f.flags, true);
      v.setBigUint64(ptr + 8, f.rightsBase, true);
      v.setBigUint64(ptr + 16, f.rightsInheriting, true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_fdstat_set_flags: (fd: number, flags: number) => {
      const f = table()[fd];
      if (!(f instanceof FileFd || f instanceof DirFd)) return other('fd_fdstat_set_flags', fd, flags);
      const known = wasi.FDFLAGS_APPEND | wasi.FDFLAGS_DSYNC | wasi.FDFLAGS_NONBLOCK | wasi.FDFLAGS_RSYNC | wasi.FDFLAGS_SYNC;
      if ((flags & ~known) !== 0) return wasi.ERRNO_INVAL;
      f.flags = flags;
      return wasi.ERRNO_SUCCESS;
    },
    fd_fdstat_set_rights: (fd: number, base: bigint, inheriting: bigint) => {
      const f = table()[fd];
      if (!(f instanceof FileFd || f instanceof DirFd)) return other('fd_fdstat_set_rights', fd, base, inheriting);
      if ((base & ~f.rightsBase) !== 0n || (inheriting & ~f.rightsInheriting) !== 0n) return wasi.ERRNO_NOTCAPABLE;
      f.rightsBase = base;
      f.rightsInheriting = inheriting;
      return wasi.ERRNO_SUCCESS;
    },
    fd_sync: (fd: number) => sync(fd, 'fd_sync'),
    fd_datasync: (fd: number) => sync(fd, 'fd_datasync'),
    fd_close: (fd: number) => {
      const fds = table();
      const f = fds[fd];
      if (f === undefined) return wasi.ERRNO_BADF;
      if (!(f instanceof FileFd || f instanceof DirFd)) return other('fd_close', fd);
      fds[fd] = undefined;
      // Like close(2) on NFS: the descriptor is gone even when the write-back fails.
      return f instanceof FileFd ? keepFile(f, true) : wasi.ERRNO_SUCCESS;
    },
    fd_renumber: (from: number, to: number) => {
      const fds = table();
      const f = fds[from];
      const old = fds[to];
      if (f === undefined || old === undefined) return wasi.ERRNO_BADF;
      if (from === to) return wasi.ERRNO_SUCCESS;
      if (!(old instanceof FileFd || old instanceof DirFd)) old.fd_close();
      if (old instanceof FileFd) keepFile(old, true); // closed by the renumber: a home file is kept
      fds[to] = f;
      fds[from] = undefined;
      return wasi.ERRNO_SUCCESS;
    },
    fd_prestat_get: (fd: number, ptr: number) => {
      const f = table()[fd];
      if (f === undefined) return wasi.ERRNO_BADF;
      if (!(f instanceof DirFd) || f.preopen === undefined) return wasi.ERRNO_BADF;
      const v = view();
      v.setUint8(ptr, wasi.PREOPENTYPE_DIR);
      v.setUint32(ptr + 4, encoder.encode(f.preopen).length, true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
      const f = table()[fd];
      if (!(f instanceof DirFd) || f.preopen === undefined) return wasi.ERRNO_BADF;
      const name = encoder.encode(f.preopen);
      if (len < name.length) return wasi.ERRNO_NAMETOOLONG;
      new Uint8Array(memory(), ptr, name.length).set(name);
      return wasi.ERRNO_SUCCESS;
    },
    fd_readdir: (fd: number, buf: number, bufLen: number, cookie: bigint, usedPtr: number) => {
      const f = table()[fd];
      if (f === undefined) return wasi.ERRNO_BADF;
      if (!(f instanceof DirFd)) return f instanceof FileFd ? wasi.ERRNO_NOTDIR : other('fd_readdir', fd, buf, bufLen, cookie, usedPtr);
      const entries: Array<[string, vfs.Inode]> = [['.', f.node], ['..', f.node.parent], ...f.node.entries];
      const bytes = new Uint8Array(memory(), buf, bufLen);
      let used = 0;
      for (let i = Number(BigInt.asUintN(64, cookie)); i < entries.length && used < bufLen; i++) {
        const [name, node] = entries[i] as [string, vfs.Inode];
        const nameBytes = encoder.encode(name);
        const entry = new Uint8Array(DIRENT_SIZE + nameBytes.length);
        const v = new DataView(entry.buffer);
        v.setBigUint64(0, BigInt(i + 1), true);
        v.setBigUint64(8, node.ino, true);
        v.setUint32(16, nameBytes.length, true);
        v.setUint8(20, node.filetype);
        entry.set(nameBytes, DIRENT_SIZE);
        // An entry that does not fit is cut short: a full buffer tells the guest to ask again.
        const n = Math.min(entry.length, bufLen - used);
        bytes.set(entry.subarray(0, n), used);
        used += n;
      }
      view().setUint32(usedPtr, used, true);
      return wasi.ERRNO_SUCCESS;
    },
  };
}
