/** The preview1 `path_*` imports over the in-memory file system. */
import { wasi } from '@bjorn3/browser_wasi_shim';
import * as vfs from './vfs';
import type { Guest, Imports } from './vfs-guest';
import { LOOKUPFLAGS_SYMLINK_FOLLOW, openAt } from './vfs-open';
import { homePlaceOf } from './home';
import { materialize } from './home-opfs';

const encoder = new TextEncoder();

/** The `path_*` imports. */
export function pathImports(g: Guest): Imports {
  const { memory, view, path, dirAt, place, writeStat } = g;
  /** Runs `op` on the path `p`/`pl` under the directory `fd`. */
  function withPath(fd: number, p: number, pl: number, op: (base: vfs.Base, name: string) => vfs.Errno): number {
    const dir = dirAt(fd);
    if (typeof dir === 'number') return dir;
    const name = path(p, pl);
    if (typeof name === 'number') return name;
    return op(dir.base(), name);
  }

  return {
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
    path_create_directory: (fd: number, p: number, pl: number) =>
      withPath(fd, p, pl, (b, name) => {
        const place = homePlaceOf(b, name);
        const err = vfs.createDirectory(b, name);
        return err === wasi.ERRNO_SUCCESS && place !== undefined ? place.keeper.mkdir(place) : err;
      }),
    path_remove_directory: (fd: number, p: number, pl: number) =>
      withPath(fd, p, pl, (b, name) => {
        const place = homePlaceOf(b, name);
        const err = vfs.removeDirectory(b, name);
        return err === wasi.ERRNO_SUCCESS && place !== undefined ? place.keeper.remove(place) : err;
      }),
    path_unlink_file: (fd: number, p: number, pl: number) =>
      withPath(fd, p, pl, (b, name) => {
        const place = homePlaceOf(b, name);
        const err = vfs.unlinkFile(b, name);
        return err === wasi.ERRNO_SUCCESS && place !== undefined ? place.keeper.remove(place) : err;
      }),
    path_symlink: (tp: number, tl: number, fd: number, p: number, pl: number) => {
      const target = path(tp, tl);
      if (typeof target === 'number') return target;
      // A home holds files and directories only.
      return withPath(fd, p, pl, (b, name) => (homePlaceOf(b, name) !== undefined ? wasi.ERRNO_NOTSUP : vfs.symlink(target, b, name)));
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
      if (homePlaceOf(to.base(), toPath) !== undefined) return wasi.ERRNO_NOTSUP;
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
      const was = homePlaceOf(from.base(), fromPath);
      const will = homePlaceOf(to.base(), toPath);
      const within = was !== undefined && will !== undefined && was.keeper === will.keeper;
      // Leaving a home kept in OPFS, a file takes its bytes along into memory first.
      if (was !== undefined && !within) {
        const src = vfs.resolve(from.base(), fromPath, false);
        if (typeof src !== 'number' && src.node !== undefined && src.name !== '.') {
          const copy = materialize(src.node);
          if (copy !== src.node) {
            vfs.unlink(src.parent, src.name);
            vfs.link(src.parent, src.name, copy);
          }
        }
      }
      const err = vfs.rename(from.base(), fromPath, to.base(), toPath);
      if (err !== wasi.ERRNO_SUCCESS || (was === undefined && will === undefined)) return err;
      if (within && was.path === will.path) return wasi.ERRNO_SUCCESS;
      const node = vfs.lookup(to.base(), toPath, false);
      if (within && was.keeper.move !== undefined && typeof node !== 'number') return was.keeper.move(was, will, node);
      // The kept tree gets the new name before it loses the old one: a failure leaves a copy, not a loss.
      if (will !== undefined && typeof node !== 'number') {
        const e = will.keeper.write(will, node);
        if (e !== wasi.ERRNO_SUCCESS) return e;
      }
      return was !== undefined && was.path !== will?.path ? was.keeper.remove(was) : wasi.ERRNO_SUCCESS;
    },
  };
}
