/**
 * Open descriptions of the in-memory file system: a file with its offset, flags and rights, a
 * directory with the sandbox root its paths resolve in. They extend the shim's `Fd` only so that
 * one table holds them beside the stdio streams; the shim's methods are never called on them.
 */
import type { HomePlace } from './home';
import { Fd, wasi } from '@bjorn3/browser_wasi_shim';
import { DirNode, type Base, type FileNode } from './vfs';

const R = (r: number): bigint => BigInt(r);

/** Rights that mean something on a regular file. */
export const FILE_RIGHTS =
  R(wasi.RIGHTS_FD_DATASYNC) |
  R(wasi.RIGHTS_FD_READ) |
  R(wasi.RIGHTS_FD_SEEK) |
  R(wasi.RIGHTS_FD_FDSTAT_SET_FLAGS) |
  R(wasi.RIGHTS_FD_SYNC) |
  R(wasi.RIGHTS_FD_TELL) |
  R(wasi.RIGHTS_FD_WRITE) |
  R(wasi.RIGHTS_FD_ADVISE) |
  R(wasi.RIGHTS_FD_ALLOCATE) |
  R(wasi.RIGHTS_FD_FILESTAT_GET) |
  R(wasi.RIGHTS_FD_FILESTAT_SET_SIZE) |
  R(wasi.RIGHTS_FD_FILESTAT_SET_TIMES) |
  R(wasi.RIGHTS_POLL_FD_READWRITE);

/** Rights that mean something on a directory. */
export const DIR_RIGHTS =
  R(wasi.RIGHTS_FD_FDSTAT_SET_FLAGS) |
  R(wasi.RIGHTS_FD_SYNC) |
  R(wasi.RIGHTS_FD_ADVISE) |
  R(wasi.RIGHTS_PATH_CREATE_DIRECTORY) |
  R(wasi.RIGHTS_PATH_CREATE_FILE) |
  R(wasi.RIGHTS_PATH_LINK_SOURCE) |
  R(wasi.RIGHTS_PATH_LINK_TARGET) |
  R(wasi.RIGHTS_PATH_OPEN) |
  R(wasi.RIGHTS_FD_READDIR) |
  R(wasi.RIGHTS_PATH_READLINK) |
  R(wasi.RIGHTS_PATH_RENAME_SOURCE) |
  R(wasi.RIGHTS_PATH_RENAME_TARGET) |
  R(wasi.RIGHTS_PATH_FILESTAT_GET) |
  R(wasi.RIGHTS_PATH_FILESTAT_SET_SIZE) |
  R(wasi.RIGHTS_PATH_FILESTAT_SET_TIMES) |
  R(wasi.RIGHTS_FD_FILESTAT_GET) |
  R(wasi.RIGHTS_FD_FILESTAT_SET_TIMES) |
  R(wasi.RIGHTS_PATH_SYMLINK) |
  R(wasi.RIGHTS_PATH_REMOVE_DIRECTORY) |
  R(wasi.RIGHTS_PATH_UNLINK_FILE) |
  R(wasi.RIGHTS_POLL_FD_READWRITE);

/** Rights and flags every descriptor of the file system carries. */
abstract class VfsFd extends Fd {
  constructor(
    public rightsBase: bigint,
    public rightsInheriting: bigint,
    public flags: number,
  ) {
    super();
  }
  /** Whether the base rights hold `right`. */
  can(right: number): boolean {
    return (this.rightsBase & R(right)) !== 0n;
  }
}

/** An open regular file: its inode, offset and flags (`FDFLAGS_APPEND` moves writes to the end). */
export class FileFd extends VfsFd {
  position = 0;
  /** In a home: where, and the file's `mtim` when it last matched the home (home.ts). */
  home?: { place: HomePlace; mtim: bigint };
  constructor(
    readonly node: FileNode,
    rightsBase: bigint,
    rightsInheriting: bigint,
    flags: number,
  ) {
    super(rightsBase & FILE_RIGHTS, rightsInheriting & FILE_RIGHTS, flags);
  }
}

/**
 * An open directory; a preopen has a name. Each is a capability of its own: a path given with it
 * may not leave it (`..` above it is ENOTCAPABLE), as in wasmtime and uvwasi.
 */
export class DirFd extends VfsFd {
  constructor(
    readonly node: DirNode,
    rightsBase: bigint,
    rightsInheriting: bigint,
    readonly preopen?: string,
  ) {
    super(rightsBase & DIR_RIGHTS, rightsInheriting & (DIR_RIGHTS | FILE_RIGHTS), 0);
  }
  /** Where paths given with this descriptor start. */
  base(): Base {
    return { dir: this.node, root: this.node };
  }
}

/** A preopened directory over `root`, with every right a directory and what it opens can have. */
export function preopenFd(name: string, root: DirNode = new DirNode()): DirFd {
  return new DirFd(root, DIR_RIGHTS, DIR_RIGHTS | FILE_RIGHTS, name);
}
