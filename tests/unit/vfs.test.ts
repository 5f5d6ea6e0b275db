import { describe, expect, it } from 'vitest';
import { wasi } from '@bjorn3/browser_wasi_shim';
import * as vfs from '../../src/process/wasi/vfs';
import { DIR_RIGHTS, DirFd, FILE_RIGHTS, FileFd, preopenFd } from '../../src/process/wasi/vfs-fd';
import { LOOKUPFLAGS_SYMLINK_FOLLOW, openAt } from '../../src/process/wasi/vfs-open';
import { buildPreopen } from '../../src/process/wasi/fs';

const ALL = DIR_RIGHTS | FILE_RIGHTS;
const READ = BigInt(wasi.RIGHTS_FD_READ);
const WRITE = BigInt(wasi.RIGHTS_FD_WRITE);

function fresh(): { root: DirFd; base: vfs.Base } {
  const root = preopenFd('/');
  return { root, base: root.base() };
}

function file(base: vfs.Base, path: string): vfs.FileNode {
  const node = vfs.lookup(base, path, true);
  if (!(node instanceof vfs.FileNode)) throw new Error(`${path} is not a file`);
  return node;
}

function create(root: DirFd, path: string, data = ''): void {
  const fd = openAt(root, 0, path, wasi.OFLAGS_CREAT, ALL, ALL, 0);
  if (!(fd instanceof FileFd)) throw new Error(`cannot create ${path}: ${String(fd)}`);
  fd.node.write(0, new TextEncoder().encode(data));
}

describe('the in-memory file system', () => {
  it('resolves . and .. inside the directory and refuses to leave it', () => {
    const { root, base } = fresh();
    expect(vfs.createDirectory(base, 'a')).toBe(0);
    expect(vfs.createDirectory(base, 'a/b')).toBe(0);
    create(root, 'a/b/f', 'x');
    expect(vfs.lookup(base, 'a/./b/../b//f', false)).toBeInstanceOf(vfs.FileNode);
    expect(vfs.lookup(base, 'a/../..', false)).toBe(wasi.ERRNO_NOTCAPABLE);
    expect(vfs.lookup(base, '/a', false)).toBe(wasi.ERRNO_NOTCAPABLE);
    expect(vfs.lookup(base, '', false)).toBe(wasi.ERRNO_NOENT);
    // A directory descriptor is a capability of its own: `..` does not leave it either.
    const sub = openAt(root, 0, 'a', wasi.OFLAGS_DIRECTORY, DIR_RIGHTS, ALL, 0);
    if (!(sub instanceof DirFd)) throw new Error('open a');
    expect(vfs.lookup(sub.base(), '../a', false)).toBe(wasi.ERRNO_NOTCAPABLE);
  });

  it('makes a path ending in / name a directory', () => {
    const { root, base } = fresh();
    create(root, 'f');
    expect(vfs.lookup(base, 'f/', false)).toBe(wasi.ERRNO_NOTDIR);
    expect(vfs.unlinkFile(base, 'f/')).toBe(wasi.ERRNO_NOTDIR);
    expect(vfs.createDirectory(base, 'd/')).toBe(0);
    expect(vfs.lookup(base, 'd///', false)).toBeInstanceOf(vfs.DirNode);
    expect(vfs.rename(base, 'd/', base, 'e/')).toBe(0);
    expect(vfs.removeDirectory(base, 'e/')).toBe(0);
  });

  it('follows symbolic links, and answers ELOOP for a loop and ENOENT for a dangling one', () => {
    const { root, base } = fresh();
    create(root, 'target', 'hi');
    expect(vfs.symlink('target', base, 'link')).toBe(0);
    expect(vfs.lookup(base, 'link', true)).toBe(file(base, 'target'));
    expect(vfs.lookup(base, 'link', false)).toBeInstanceOf(vfs.LinkNode);
    expect(vfs.readlink(base, 'link')).toBe('target');
    expect(vfs.readlink(base, 'target')).toBe(wasi.ERRNO_INVAL);
    expect(vfs.symlink('loop', base, 'loop')).toBe(0);
    expect(vfs.lookup(base, 'loop', true)).toBe(wasi.ERRNO_LOOP);
    expect(vfs.lookup(base, 'loop/x', false)).toBe(wasi.ERRNO_LOOP);
    expect(vfs.symlink('nowhere', base, 'dangling')).toBe(0);
    expect(vfs.lookup(base, 'dangling', true)).toBe(wasi.ERRNO_NOENT);
    expect(vfs.symlink('/etc', base, 'abs')).toBe(wasi.ERRNO_NOTCAPABLE);
    expect(vfs.symlink('x', base, 'link')).toBe(wasi.ERRNO_EXIST);
    expect(vfs.symlink('x', base, 'new/')).toBe(wasi.ERRNO_NOENT);
    // Opening a link without following it is ELOOP (O_NOFOLLOW).
    expect(openAt(root, 0, 'link', 0, ALL, ALL, 0)).toBe(wasi.ERRNO_LOOP);
    expect(openAt(root, LOOKUPFLAGS_SYMLINK_FOLLOW, 'link', 0, ALL, ALL, 0)).toBeInstanceOf(FileFd);
    // O_CREAT through a dangling link makes its target.
    expect(openAt(root, LOOKUPFLAGS_SYMLINK_FOLLOW, 'dangling', wasi.OFLAGS_CREAT, ALL, ALL, 0)).toBeInstanceOf(FileFd);
    expect(vfs.lookup(base, 'nowhere', false)).toBeInstanceOf(vfs.FileNode);
  });

  it('shares one inode between hard links and counts them', () => {
    const { root, base } = fresh();
    create(root, 'a', 'data');
    expect(vfs.hardLink(base, 'a', base, 'b')).toBe(0);
    expect(file(base, 'b')).toBe(file(base, 'a'));
    expect(vfs.stat(file(base, 'a')).nlink).toBe(2n);
    expect(vfs.hardLink(base, 'a', base, 'b')).toBe(wasi.ERRNO_EXIST);
    expect(vfs.hardLink(base, 'a', base, 'c/')).toBe(wasi.ERRNO_NOENT);
    expect(vfs.createDirectory(base, 'd')).toBe(0);
    expect(vfs.hardLink(base, 'd', base, 'e')).toBe(wasi.ERRNO_PERM);
    const kept = file(base, 'b');
    expect(vfs.unlinkFile(base, 'a')).toBe(0);
    expect(vfs.stat(kept).nlink).toBe(1n);
    expect(new TextDecoder().decode(kept.bytes())).toBe('data');
  });

  it('renames as rename(2) does', () => {
    const { root, base } = fresh();
    expect(vfs.createDirectory(base, 'src')).toBe(0);
    expect(vfs.createDirectory(base, 'dst')).toBe(0);
    expect(vfs.rename(base, 'src', base, 'dst')).toBe(0); // onto an empty directory
    expect(vfs.lookup(base, 'src', false)).toBe(wasi.ERRNO_NOENT);
    create(root, 'dst/f');
    expect(vfs.createDirectory(base, 'other')).toBe(0);
    expect(vfs.rename(base, 'other', base, 'dst')).toBe(wasi.ERRNO_NOTEMPTY);
    expect(vfs.rename(base, 'other', base, 'dst/f')).toBe(wasi.ERRNO_NOTDIR);
    expect(vfs.rename(base, 'dst/f', base, 'other')).toBe(wasi.ERRNO_ISDIR);
    expect(vfs.rename(base, 'dst', base, 'dst/inside')).toBe(wasi.ERRNO_INVAL);
    expect(vfs.rename(base, 'dst/f', base, 'g')).toBe(0);
    create(root, 'h');
    expect(vfs.rename(base, 'g', base, 'h')).toBe(0); // replaces a file
    expect(vfs.rename(base, 'h', base, 'x/')).toBe(wasi.ERRNO_NOTDIR);
    expect(vfs.rename(base, 'missing', base, 'y')).toBe(wasi.ERRNO_NOENT);
    // A moved directory's `..` is its new parent.
    expect(vfs.rename(base, 'dst', base, 'other/dst')).toBe(0);
    expect(vfs.lookup(base, 'other/dst/../dst', false)).toBeInstanceOf(vfs.DirNode);
  });

  it('removes directories and files only as asked', () => {
    const { root, base } = fresh();
    expect(vfs.createDirectory(base, 'd')).toBe(0);
    expect(vfs.createDirectory(base, 'd')).toBe(wasi.ERRNO_EXIST);
    create(root, 'd/f');
    expect(vfs.removeDirectory(base, 'd')).toBe(wasi.ERRNO_NOTEMPTY);
    expect(vfs.unlinkFile(base, 'd')).toBe(wasi.ERRNO_ISDIR);
    expect(vfs.removeDirectory(base, 'd/f')).toBe(wasi.ERRNO_NOTDIR);
    expect(vfs.unlinkFile(base, 'd/f')).toBe(0);
    expect(vfs.removeDirectory(base, 'd')).toBe(0);
    expect(vfs.removeDirectory(base, '.')).toBe(wasi.ERRNO_BUSY);
  });

  it('validates time flags before it changes anything', () => {
    const { root, base } = fresh();
    create(root, 'f');
    const node = file(base, 'f');
    const before = node.mtim;
    const both = wasi.FSTFLAGS_MTIM | wasi.FSTFLAGS_MTIM_NOW;
    expect(vfs.setTimes(node, 0n, 5n, both)).toBe(wasi.ERRNO_INVAL);
    expect(vfs.setTimes(node, 5n, 0n, wasi.FSTFLAGS_ATIM | wasi.FSTFLAGS_ATIM_NOW)).toBe(wasi.ERRNO_INVAL);
    expect(vfs.setTimes(node, 0n, 0n, 1 << 7)).toBe(wasi.ERRNO_INVAL);
    expect(node.mtim).toBe(before);
    const atim = node.atim;
    expect(vfs.setTimes(node, 0n, before - 100n, wasi.FSTFLAGS_MTIM)).toBe(0);
    expect(node.mtim).toBe(before - 100n);
    expect(node.atim).toBe(atim);
  });

  it('gives an opened file the rights it asked for, within what the directory passes on', () => {
    const { root } = fresh();
    create(root, 'f');
    const ro = openAt(root, 0, 'f', 0, READ | BigInt(wasi.RIGHTS_PATH_OPEN), 0n, 0);
    if (!(ro instanceof FileFd)) throw new Error('open f');
    expect(ro.can(wasi.RIGHTS_FD_READ)).toBe(true);
    expect(ro.can(wasi.RIGHTS_FD_WRITE)).toBe(false);
    expect(ro.can(wasi.RIGHTS_PATH_OPEN)).toBe(false); // path rights mean nothing on a file
    expect(openAt(root, 0, '.', wasi.OFLAGS_DIRECTORY, READ | WRITE, 0n, 0)).toBe(wasi.ERRNO_ISDIR);
    expect(openAt(root, 0, '.', wasi.OFLAGS_DIRECTORY, READ, 0n, 0)).toBeInstanceOf(DirFd);
    expect(openAt(root, 0, 'f', wasi.OFLAGS_DIRECTORY, 0n, 0n, 0)).toBe(wasi.ERRNO_NOTDIR);
    expect(openAt(root, 0, 'f', wasi.OFLAGS_CREAT | wasi.OFLAGS_EXCL, 0n, 0n, 0)).toBe(wasi.ERRNO_EXIST);
    expect(openAt(root, 0, 'missing', 0, 0n, 0n, 0)).toBe(wasi.ERRNO_NOENT);
    root.rightsBase &= ~BigInt(wasi.RIGHTS_PATH_FILESTAT_SET_SIZE);
    expect(openAt(root, 0, 'f', wasi.OFLAGS_TRUNC, 0n, 0n, 0)).toBe(wasi.ERRNO_NOTCAPABLE);
  });

  it('grows and truncates a file with zeros', () => {
    const node = new vfs.FileNode(new Uint8Array([1, 2, 3]));
    node.write(5, new Uint8Array([9]));
    expect([...node.bytes()]).toEqual([1, 2, 3, 0, 0, 9]);
    node.truncate(2);
    node.truncate(4);
    expect([...node.bytes()]).toEqual([1, 2, 0, 0]);
    for (let i = 0; i < 1000; i++) node.write(node.length, new Uint8Array([i & 0xff]));
    expect(node.length).toBe(1004);
    expect(node.bytes()[1003]).toBe(999 & 0xff);
    expect(node.write(vfs.MAX_FILE_SIZE, new Uint8Array(1))).toBe(wasi.ERRNO_FBIG);
    expect(node.truncate(vfs.MAX_FILE_SIZE + 1)).toBe(wasi.ERRNO_FBIG);
    expect(node.length).toBe(1004);
  });

  it('seeds a preopen from the files given at spawn', () => {
    const fd = buildPreopen({ name: '/data', files: new Map([['a/b.txt', new Uint8Array([1])], ['c', new Uint8Array([2])]]) });
    expect(fd.preopen).toBe('/data');
    const b = vfs.lookup(fd.base(), 'a/b.txt', false);
    expect(b instanceof vfs.FileNode && [...b.bytes()]).toEqual([1]);
    expect(vfs.stat(fd.node).nlink).toBe(3n); // `.`, `..`, and a's `..`
    // A file given where a directory must be gives way to it.
    const both = buildPreopen({ name: '/', files: new Map([['x', new Uint8Array([1])], ['x/y', new Uint8Array([2])]]) });
    expect(vfs.lookup(both.base(), 'x/y', false)).toBeInstanceOf(vfs.FileNode);
  });
});
