import { describe, expect, it } from 'vitest';
import { wasi, type Fd } from '@bjorn3/browser_wasi_shim';
import { DIR_RIGHTS, FILE_RIGHTS, preopenFd } from '../../src/process/wasi/vfs-fd';
import { vfsImports } from '../../src/process/wasi/vfs-imports';

const ALL = DIR_RIGHTS | FILE_RIGHTS;

/** A guest: one page of memory, the preopen `/` at fd 3, and the imports called by name. */
function guest() {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const fds: Array<Fd | undefined> = [undefined, undefined, undefined, preopenFd('/')];
  const imports = vfsImports(() => memory.buffer, () => fds, () => wasi.ERRNO_BADF);
  const call = (name: string, ...args: Array<number | bigint>): number => (imports[name] as (...a: Array<number | bigint>) => number)(...args);
  const view = () => new DataView(memory.buffer);
  let top = 1024;
  /** Copies bytes into memory; answers [ptr, len]. */
  const put = (data: string | Uint8Array): [number, number] => {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const ptr = top;
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    top += bytes.length + 8;
    return [ptr, bytes.length];
  };
  const open = (path: string, oflags: number, fdflags = 0): number => {
    const [p, l] = put(path);
    expect(call('path_open', 3, 0, p, l, oflags, ALL, ALL, fdflags, 0)).toBe(0);
    return view().getUint32(0, true);
  };
  /** Writes `text` through one iovec at 16; answers the errno. */
  const write = (fd: number, text: string, at?: bigint): number => {
    const [p, l] = put(text);
    view().setUint32(16, p, true);
    view().setUint32(20, l, true);
    return at === undefined ? call('fd_write', fd, 16, 1, 8) : call('fd_pwrite', fd, 16, 1, at, 8);
  };
  const seek = (fd: number, offset: bigint, whence: number): bigint => {
    expect(call('fd_seek', fd, offset, whence, 0)).toBe(0);
    return view().getBigUint64(0, true);
  };
  return { call, view, put, open, write, seek };
}

describe('the file system imports', () => {
  it('appends with O_APPEND, and pwrite writes where it is told without moving the offset', () => {
    const g = guest();
    const fd = g.open('f', wasi.OFLAGS_CREAT, wasi.FDFLAGS_APPEND);
    expect(g.write(fd, 'ab')).toBe(0);
    g.seek(fd, 0n, wasi.WHENCE_SET);
    expect(g.write(fd, 'cd')).toBe(0);
    expect(g.seek(fd, 0n, wasi.WHENCE_CUR)).toBe(4n);
    expect(g.write(fd, 'XYZ', 0n)).toBe(0);
    expect(g.seek(fd, 0n, wasi.WHENCE_CUR)).toBe(4n);
    expect(g.seek(fd, 0n, wasi.WHENCE_END)).toBe(4n);
    // Without the flag, writes go where the offset is.
    expect(g.call('fd_fdstat_set_flags', fd, 0)).toBe(0);
    g.seek(fd, 0n, wasi.WHENCE_SET);
    expect(g.write(fd, 'q')).toBe(0);
    expect(g.call('fd_fdstat_get', fd, 32)).toBe(0);
    expect(g.view().getUint16(34, true)).toBe(0);
    expect(g.call('fd_filestat_get', fd, 64)).toBe(0);
    expect(g.view().getBigUint64(64 + 32, true)).toBe(4n); // size
  });

  it('lists a directory in pieces by cookie, cutting an entry that does not fit', () => {
    const g = guest();
    for (const name of ['a', 'bb', 'ccc']) g.open(name, wasi.OFLAGS_CREAT);
    const names: string[] = [];
    let cookie = 0n;
    for (let round = 0; round < 10; round++) {
      // Room for one 24-byte header and a short name: each call returns one entry or a cut one.
      expect(g.call('fd_readdir', 3, 256, 28, cookie, 0)).toBe(0);
      const used = g.view().getUint32(0, true);
      if (used === 0) break;
      const len = g.view().getUint32(256 + 16, true);
      if (24 + len > used) break; // cut short: a bigger buffer is needed
      names.push(new TextDecoder().decode(new Uint8Array(g.view().buffer, 256 + 24, len)));
      cookie = g.view().getBigUint64(256, true);
    }
    expect(names).toEqual(['.', '..', 'a', 'bb', 'ccc']);
    // `ccc` (cookie 4) in 25 bytes: cut short, and the buffer reported full.
    expect(g.call('fd_readdir', 3, 256, 25, 4n, 0)).toBe(0);
    expect(g.view().getUint32(0, true)).toBe(25);
  });

  it('answers errnos for what a descriptor cannot do', () => {
    const g = guest();
    expect(g.call('fd_read', 3, 16, 1, 8)).toBe(wasi.ERRNO_ISDIR);
    expect(g.call('fd_seek', 3, 0n, wasi.WHENCE_SET, 0)).toBe(wasi.ERRNO_BADF);
    expect(g.call('fd_close', 9)).toBe(wasi.ERRNO_BADF);
    const [p, l] = g.put('f');
    expect(g.call('path_open', 3, 0, p, l, wasi.OFLAGS_CREAT, BigInt(wasi.RIGHTS_FD_READ), 0n, 0, 0)).toBe(0);
    const ro = g.view().getUint32(0, true);
    expect(g.write(ro, 'x')).toBe(wasi.ERRNO_BADF);
    expect(g.call('fd_fdstat_set_rights', ro, ALL, 0n)).toBe(wasi.ERRNO_NOTCAPABLE);
    expect(g.call('path_open', ro, 0, p, l, 0, 0n, 0n, 0, 0)).toBe(wasi.ERRNO_NOTDIR);
    expect(g.call('fd_filestat_set_times', ro, 1n, 2n, wasi.FSTFLAGS_ATIM | wasi.FSTFLAGS_ATIM_NOW)).toBe(wasi.ERRNO_INVAL);
    // A path with bytes that are not UTF-8.
    const [bad, badLen] = g.put(new Uint8Array([0xff, 0xfe]));
    expect(g.call('path_create_directory', 3, bad, badLen)).toBe(wasi.ERRNO_ILSEQ);
  });

  it('names the preopen and renumbers descriptors', () => {
    const g = guest();
    expect(g.call('fd_prestat_get', 3, 0)).toBe(0);
    expect(g.view().getUint32(4, true)).toBe(1);
    expect(g.call('fd_prestat_dir_name', 3, 100, 0)).toBe(wasi.ERRNO_NAMETOOLONG);
    expect(g.call('fd_prestat_dir_name', 3, 100, 4)).toBe(0);
    expect(g.view().getUint8(100)).toBe('/'.charCodeAt(0));
    const fd = g.open('f', wasi.OFLAGS_CREAT);
    expect(fd).toBe(4);
    expect(g.call('fd_renumber', fd, 3)).toBe(0);
    expect(g.call('fd_prestat_get', 3, 0)).toBe(wasi.ERRNO_BADF); // now the file
    expect(g.call('fd_close', 4)).toBe(wasi.ERRNO_BADF);
  });
});
