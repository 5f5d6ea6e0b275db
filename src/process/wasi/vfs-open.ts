/**
 * `path_open` on the in-memory file system: lookup flags, open flags, the rights a new
 * descriptor gets (what was asked, within what the directory passes on), and descriptor flags.
 */
import { wasi } from '@bjorn3/browser_wasi_shim';
import { DirNode, FileNode, LinkNode, link, resolve, type Errno } from './vfs';
import { DirFd, FileFd } from './vfs-fd';
import { homePlace } from './home';

/** `lookupflags`: follow a symbolic link in the last place of the path. */
export const LOOKUPFLAGS_SYMLINK_FOLLOW = 1;

const FD_WRITE = BigInt(wasi.RIGHTS_FD_WRITE);

/** Opens `path` under `dir` as `path_open` says; answers the new description or an errno. */
export function openAt(
  dir: DirFd,
  lookupflags: number,
  path: string,
  oflags: number,
  rightsBase: bigint,
  rightsInheriting: bigint,
  fdflags: number,
): FileFd | DirFd | Errno {
  const creat = (oflags & wasi.OFLAGS_CREAT) !== 0;
  const excl = (oflags & wasi.OFLAGS_EXCL) !== 0;
  const trunc = (oflags & wasi.OFLAGS_TRUNC) !== 0;
  const directory = (oflags & wasi.OFLAGS_DIRECTORY) !== 0;
  // O_CREAT|O_EXCL never follows a link in the last place: the link itself exists.
  const follow = (lookupflags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0 && !(creat && excl);
  const f = resolve(dir.base(), path, follow);
  if (typeof f === 'number') return f;
  const base = rightsBase & dir.rightsInheriting;
  const inheriting = rightsInheriting & dir.rightsInheriting;
  // In a kept tree, the entry is brought up to date: another process may have changed it since.
  const place = f.name === '.' ? undefined : homePlace(f.parent, f.name);
  if (place !== undefined) place.keeper.refresh(place, f.parent, f.name, f.node);
  let node = place !== undefined ? f.parent.entries.get(f.name) : f.node;
  let made = false;
  if (node === undefined) {
    if (!creat) return wasi.ERRNO_NOENT;
    if (f.slash) return wasi.ERRNO_ISDIR;
    if (directory) return wasi.ERRNO_INVAL;
    if (!dir.can(wasi.RIGHTS_PATH_CREATE_FILE)) return wasi.ERRNO_NOTCAPABLE;
    const made1 = place !== undefined ? place.keeper.create(place) : new FileNode();
    if (typeof made1 === 'number') return made1;
    node = made1;
    link(f.parent, f.name, node);
    made = true;
  } else {
    if (creat && excl) return wasi.ERRNO_EXIST;
    if (node instanceof LinkNode) return wasi.ERRNO_LOOP;
    if ((f.slash || directory) && !(node instanceof DirNode)) return wasi.ERRNO_NOTDIR;
  }
  if (node instanceof DirNode) {
    if (trunc || creat || (base & FD_WRITE) !== 0n) return wasi.ERRNO_ISDIR;
    return new DirFd(node, base, inheriting);
  }
  if (trunc && !dir.can(wasi.RIGHTS_PATH_FILESTAT_SET_SIZE)) return wasi.ERRNO_NOTCAPABLE;
  const fd = new FileFd(node, base, inheriting, fdflags);
  if (place !== undefined) {
    // The keeper empties a kept file itself (a home's without reading it first).
    const err = place.keeper.opened(fd, place, made, trunc);
    if (err !== wasi.ERRNO_SUCCESS) return err;
  } else if (trunc && node.length > 0) node.truncate(0);
  return fd;
}
