/**
 * The preview1 `fd_*` and `path_*` imports over the in-memory file system (vfs.ts). A descriptor
 * that is not the file system's (the stdio streams) goes to `other`, the shim's import of the
 * same name. Guest memory is read and written here, nowhere else in the file system.
 */
import { wasi, type Fd } from '@bjorn3/browser_wasi_shim';
import * as vfs from './vfs';
import { DirFd, FileFd } from './vfs-fd';
import { LOOKUPFLAGS_SYMLINK_FOLLOW, openAt } from './vfs-open';

type Memory = () => ArrayBuffer | SharedArrayBuffer;
type Table = () => Array<Fd | undefined>;
/** The shim's import of a name, for descriptors that are not the file system's. */
export type Other = (name: string, ...args: Array<number | bigint>) => number;
type Imports = Record<string, (...args: never[]) => number>;

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
const DIRENT_SIZE = 24;

/** Builds the imports; `table` is the process's descriptor table (shared with the shim). */
export function vfsImports(memory: Memory, table: Table, other: Other): Imports {
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
      const chunk = node.bytes().subarray(Math.min(at, node.length), Math.min(at + len, node.length));
      new Uint8Array(memory(), ptr, chunk.length).set(chunk);
      total += chunk.length;
      at += chunk.length;
      if (chunk.length < len) break;
    }
    return total;
  };
  /** Writes the iovecs to `node` at `at`; answers the count, or an errno if nothing was written. */
  const writeFrom = (node: vfs.FileNode, at: number, iovs: number, iovsLen: number): { n: number } | vfs.Errno => {
    let total = 0;
    for (const [ptr, len] of iovecs(iovs, iovsLen)) {
      const err = node.write(at, new Uint8Array(memory(), ptr, len).slice());
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

  const imports: Imports = {
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
    fd_sync: (fd: number) => (table()[fd] instanceof FileFd || table()[fd] instanceof DirFd ? wasi.ERRNO_SUCCESS : other('fd_sync', fd)),
    fd_datasync: (fd: number) => (table()[fd] instanceof FileFd || table()[fd] instanceof DirFd ? wasi.ERRNO_SUCCESS : other('fd_datasync', fd)),
    fd_close: (fd: number) => {
      const fds = table();
      const f = fds[fd];
      if (f === undefined) return wasi.ERRNO_BADF;
      if (!(f instanceof FileFd || f instanceof DirFd)) return other('fd_close', fd);
      fds[fd] = undefined;
      return wasi.ERRNO_SUCCESS;
    },
    fd_renumber: (from: number, to: number) => {
      const fds = table();
      const f = fds[from];
      const old = fds[to];
      if (f === undefined || old === undefined) return wasi.ERRNO_BADF;
      if (from === to) return wasi.ERRNO_SUCCESS;
      if (!(old instanceof FileFd || old instanceof DirFd)) old.fd_close();
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
    path_open: (fd: number, lookupflags: number, p: number, pl: number, oflags: number, base: bigint, inh: bigint, fdflags: number, outPtr: number) => {
      const dir = dirAt(fd);
      if (typeof dir === 'number') return dir;
      const name = path(p, pl);
      if (typeof name === 'number') return name;
      const opened = openAt(dir, lookupflags, name, oflags, BigInt.asUintN(64, base), BigInt.asUintN(64, inh), fdflags);
      if (typeof opened === 'number') return opened;
      view().setUint32(outPtr, place(opened), true);
      return wasi.ERRNO_SUCCESS;
    },
    path_filestat_get: (fd: number, flags: number, p: number, pl: number, ptr: number) => {
      const dir = dirAt(fd);
      if (typeof dir === 'number') return dir;
      const name = path(p, pl);
      if (typeof name === 'number') return name;
      const node = vfs.lookup(dir.base(), name, (flags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0);
      if (typeof node === 'number') return node;
      writeStat(ptr, vfs.stat(node));
      return wasi.ERRNO_SUCCESS;
    },
    path_filestat_set_times: (fd: number, flags: number, p: number, pl: number, atim: bigint, mtim: bigint, fst: number) => {
      const dir = dirAt(fd);
      if (typeof dir === 'number') return dir;
      const name = path(p, pl);
      if (typeof name === 'number') return name;
      const node = vfs.lookup(dir.base(), name, (flags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0);
      if (typeof node === 'number') return node;
      return vfs.setTimes(node, BigInt.asUintN(64, atim), BigInt.asUintN(64, mtim), fst);
    },
    path_create_directory: (fd: number, p: number, pl: number) => withPath(fd, p, pl, (b, name) => vfs.createDirectory(b, name)),
    path_remove_directory: (fd: number, p: number, pl: number) => withPath(fd, p, pl, (b, name) => vfs.removeDirectory(b, name)),
    path_unlink_file: (fd: number, p: number, pl: number) => withPath(fd, p, pl, (b, name) => vfs.unlinkFile(b, name)),
    path_symlink: (tp: number, tl: number, fd: number, p: number, pl: number) => {
      const target = path(tp, tl);
      if (typeof target === 'number') return target;
      return withPath(fd, p, pl, (b, name) => vfs.symlink(target, b, name));
    },
    path_readlink: (fd: number, p: number, pl: number, buf: number, bufLen: number, usedPtr: number) => {
      const dir = dirAt(fd);
      if (typeof dir === 'number') return dir;
      const name = path(p, pl);
      if (typeof name === 'number') return name;
      const target = vfs.readlink(dir.base(), name);
      if (typeof target === 'number') return target;
      // Like readlink(2): as much as fits, unterminated.
      const bytes = encoder.encode(target).subarray(0, bufLen);
      new Uint8Array(memory(), buf, bytes.length).set(bytes);
      view().setUint32(usedPtr, bytes.length, true);
      return wasi.ERRNO_SUCCESS;
    },
    path_link: (fromFd: number, flags: number, fp: number, fl: number, toFd: number, tp: number, tl: number) => {
      const from = dirAt(fromFd);
      const to = dirAt(toFd);
      if (typeof from === 'number') return from;
      if (typeof to === 'number') return to;
      const fromPath = path(fp, fl);
      const toPath = path(tp, tl);
      if (typeof fromPath === 'number') return fromPath;
      if (typeof toPath === 'number') return toPath;
      // Following a link in the last place would make a hard link to a directory possible.
      if ((flags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0) return wasi.ERRNO_INVAL;
      return vfs.hardLink(from.base(), fromPath, to.base(), toPath);
    },
    path_rename: (fromFd: number, fp: number, fl: number, toFd: number, tp: number, tl: number) => {
      const from = dirAt(fromFd);
      const to = dirAt(toFd);
      if (typeof from === 'number') return from;
      if (typeof to === 'number') return to;
      const fromPath = path(fp, fl);
      const toPath = path(tp, tl);
      if (typeof fromPath === 'number') return fromPath;
      if (typeof toPath === 'number') return toPath;
      return vfs.rename(from.base(), fromPath, to.base(), toPath);
    },
  };

  function withPath(fd: number, p: number, pl: number, op: (base: vfs.Base, name: string) => vfs.Errno): number {
    const dir = dirAt(fd);
    if (typeof dir === 'number') return dir;
    const name = path(p, pl);
    if (typeof name === 'number') return name;
    return op(dir.base(), name);
  }

  return imports;
}
