/**
 * A tree the page keeps (src/process/wasi/home.ts's PageKeeper: a picked folder since ADR 0025,
 * a home before), over a fake kernel that keeps files in a map: what is read at open, written
 * back at close, and what a full disk answers.
 */
import { describe, expect, it } from 'vitest';
import { wasi } from '@bjorn3/browser_wasi_shim';
import { KernelError } from '../../src/common';
import { DIR_RIGHTS, FILE_RIGHTS, FileFd, preopenFd } from '../../src/process/wasi/vfs-fd';
import { openAt } from '../../src/process/wasi/vfs-open';
import { PageKeeper, keepFile, keepTree, type KernelCall } from '../../src/process/wasi/home';

const ALL = DIR_RIGHTS | FILE_RIGHTS;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A kernel keeping one module's home in a map; `full` makes every write fail as a full disk does. */
function fakeKernel() {
  const files = new Map<string, Uint8Array>();
  const state = { full: false };
  const call: KernelCall = (name, args) => {
    const a = args as { path: string; bytes?: Uint8Array };
    if (name === 'home.read') {
      const b = files.get(a.path);
      return b === undefined ? null : btoa(String.fromCharCode(...b));
    }
    if (name === 'home.write') {
      if (state.full) throw new KernelError('kernel/no-space', 'full');
      files.set(a.path, (a.bytes as Uint8Array).slice());
      return null;
    }
    return null;
  };
  return { files, state, call };
}

/** A process's preopen over the fake home. */
function processHome(call: KernelCall) {
  const root = preopenFd('/home');
  keepTree(root.node, new PageKeeper(call));
  return root;
}

function open(dir: ReturnType<typeof processHome>, path: string, oflags = 0): FileFd {
  const f = openAt(dir, 0, path, oflags, ALL, ALL, 0);
  if (!(f instanceof FileFd)) throw new Error(`open ${path}: ${String(f)}`);
  return f;
}

describe('home', () => {
  it('a write one process closes is what another, already running, reads at its next open', () => {
    const k = fakeKernel();
    const a = processHome(k.call);
    const b = processHome(k.call);
    const made = open(a, 'shared.txt', wasi.OFLAGS_CREAT);
    made.node.write(0, enc.encode('first'));
    expect(keepFile(made, false)).toBe(wasi.ERRNO_SUCCESS);
    expect(dec.decode(open(b, 'shared.txt').node.bytes())).toBe('first');
    const again = open(a, 'shared.txt', wasi.OFLAGS_TRUNC);
    again.node.write(0, enc.encode('second'));
    keepFile(again, false);
    expect(dec.decode(open(b, 'shared.txt').node.bytes())).toBe('second');
    expect(dec.decode(k.files.get('shared.txt'))).toBe('second');
  });

  it('a file made with O_CREAT is written back at close even when nothing was written to it', () => {
    const k = fakeKernel();
    const f = open(processHome(k.call), 'empty', wasi.OFLAGS_CREAT);
    expect(f.home?.mtim).toBe(-1n);
  });

  it('a full disk is ENOSPC and leaves the home as it was', () => {
    const k = fakeKernel();
    k.files.set('doc.txt', enc.encode('good'));
    const f = open(processHome(k.call), 'doc.txt', wasi.OFLAGS_TRUNC);
    f.node.write(0, enc.encode('half-written'));
    k.state.full = true;
    expect(keepFile(f, false)).toBe(wasi.ERRNO_NOSPC);
    expect(dec.decode(k.files.get('doc.txt'))).toBe('good');
  });

  it('paths in subdirectories and unicode names reach the home by their full path', () => {
    const k = fakeKernel();
    k.files.set('dír/ż.txt', enc.encode('ok'));
    const home = processHome(k.call);
    expect(openAt(home, 0, 'dír', 0, ALL, ALL, 0)).toBe(wasi.ERRNO_NOENT); // directories come from the start-up load
    const f = openAt(home, 0, 'ż.txt', wasi.OFLAGS_CREAT, ALL, ALL, 0);
    expect(f instanceof FileFd && f.home?.place.path).toBe('ż.txt');
  });

  it('an open file is written back only when it changed since it last matched the home (at close, sync or exit)', () => {
    const k = fakeKernel();
    k.files.set('log.txt', enc.encode('a'));
    const f = open(processHome(k.call), 'log.txt');
    let writes = 0;
    const counting: KernelCall = (name, args) => {
      if (name === 'home.write') writes++;
      return k.call(name, args);
    };
    f.home = { place: { ...f.home!.place, keeper: new PageKeeper(counting) }, mtim: f.home!.mtim };
    expect(keepFile(f, false)).toBe(wasi.ERRNO_SUCCESS);
    expect(writes).toBe(0);
    f.node.write(1, enc.encode('b'));
    keepFile(f, false);
    keepFile(f, true);
    expect(writes).toBe(1);
    expect(dec.decode(k.files.get('log.txt'))).toBe('ab');
  });
});
