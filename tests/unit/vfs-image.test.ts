/**
 * A process's files as its snapshot carries them (vfs-image.ts, ADR 0028): a round trip through
 * structured clone keeps the tree, hard links as one inode, a file unlinked while open, offsets,
 * flags and rights; an image out of shape is refused whole.
 */
import { describe, expect, it } from 'vitest';
import { Fd, wasi } from '@bjorn3/browser_wasi_shim';
import * as vfs from '../../src/process/wasi/vfs';
import { DIR_RIGHTS, DirFd, FILE_RIGHTS, FileFd, preopenFd } from '../../src/process/wasi/vfs-fd';
import { openAt } from '../../src/process/wasi/vfs-open';
import { captureFiles, restoreFiles, type HomeCalls } from '../../src/process/wasi/vfs-image';

const ALL = DIR_RIGHTS | FILE_RIGHTS;
const noHomes: HomeCalls = { mountOf: () => undefined, callFor: () => undefined, rootMount: () => undefined, keep: () => {} };
const enc = new TextEncoder();
const dec = new TextDecoder();

function open(root: DirFd, path: string, oflags = 0): FileFd {
  const fd = openAt(root, 0, path, oflags, ALL, ALL, 0);
  if (!(fd instanceof FileFd)) throw new Error(`cannot open ${path}: ${String(fd)}`);
  return fd;
}

describe('a snapshot of open files', () => {
  it('round-trips the tree, hard links, an unlinked open file and offsets', () => {
    const stdio = [new Fd(), new Fd(), new Fd()];
    const root = preopenFd('/tmp');
    expect(vfs.createDirectory(root.base(), 'd')).toBe(wasi.ERRNO_SUCCESS);
    const a = open(root, 'd/a', wasi.OFLAGS_CREAT);
    a.node.write(0, enc.encode('hello'));
    a.position = 3;
    vfs.link(root.node, 'b', a.node);
    const gone = open(root, 'gone', wasi.OFLAGS_CREAT);
    gone.node.write(0, enc.encode('still here'));
    vfs.unlink(root.node, 'gone');
    const table = [...stdio, root, a, undefined, gone];
    const image = structuredClone(captureFiles(table, stdio, noHomes));
    const back = restoreFiles(image, stdio, noHomes);
    expect(back).toBeDefined();
    const [s0, s1, s2, r, fa, hole, fg] = back ?? [];
    expect([s0, s1, s2]).toEqual(stdio);
    expect(r).toBeInstanceOf(DirFd);
    expect((r as DirFd).preopen).toBe('/tmp');
    expect(hole).toBeUndefined();
    expect(fa).toBeInstanceOf(FileFd);
    expect((fa as FileFd).position).toBe(3);
    // The hard link and the descriptor share one inode, as before.
    const b = vfs.lookup((r as DirFd).base(), 'b', false);
    expect(b).toBe((fa as FileFd).node);
    expect(dec.decode((fa as FileFd).node.bytes())).toBe('hello');
    expect((fa as FileFd).node.nlink).toBe(2n);
    // Unlinked while open: in no directory, still read through its descriptor.
    expect(vfs.lookup((r as DirFd).base(), 'gone', false)).toBe(wasi.ERRNO_NOENT);
    expect(dec.decode((fg as FileFd).node.bytes())).toBe('still here');
    expect((fg as FileFd).node.nlink).toBe(0n);
    // `..` of the subdirectory is the restored root.
    const d = vfs.lookup((r as DirFd).base(), 'd', false) as vfs.DirNode;
    expect(d.parent).toBe((r as DirFd).node);
  });

  it('refuses an image out of shape whole', () => {
    const stdio = [new Fd(), new Fd(), new Fd()];
    const good = captureFiles([...stdio, preopenFd('/tmp')], stdio, noHomes);
    expect(restoreFiles(undefined, stdio, noHomes)).toBeUndefined();
    expect(restoreFiles({ ...good, v: 2 }, stdio, noHomes)).toBeUndefined();
    expect(restoreFiles({ ...good, fds: [{ k: 'dir', node: 99, rb: 0n, ri: 0n }] }, stdio, noHomes)).toBeUndefined();
    expect(restoreFiles({ ...good, nodes: [{ k: 'd', entries: [['x', 5]], parent: 0, t: [0n, 0n, 0n], n: 2n }] }, stdio, noHomes)).toBeUndefined();
    expect(restoreFiles({ ...good, fds: [{ k: 'stdio', which: 7 }] }, stdio, noHomes)).toBeUndefined();
    // A file descriptor pointing at a directory inode.
    expect(restoreFiles({ ...good, fds: [{ k: 'file', node: 0, pos: 0, rb: 0n, ri: 0n, flags: 0 }] }, stdio, noHomes)).toBeUndefined();
  });
});
