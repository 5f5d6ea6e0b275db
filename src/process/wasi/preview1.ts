/**
 * WASI preview1 for one process, on top of @bjorn3/browser_wasi_shim, mended where it falls
 * short: byte-exact args/env, ring-backed stdio without extra copies, real clocks and
 * `poll_oneoff`, sockets and signals that return an errno instead of throwing.
 */
import { WASI, WASIProcExit, wasi, type Fd } from '@bjorn3/browser_wasi_shim';
import { Ring, type WasiProcessOptions } from '../../ipc';
import { RingReaderFd, RingWriterFd } from './stdio';
import { buildPreopen, planPreopens } from './fs';
import { pollOneoff, pollOneoffSuspending, type PollPark } from './poll';
import { now, resolution } from './clock';
import { vfsImports } from './vfs-imports';
import { PageKeeper, keepFile, keepTree, type Keeper, type KernelCall } from './home';
import { OpfsKeeper } from './home-opfs';
import { FileFd } from './vfs-fd';
import { captureFiles, restoreFiles, type HomeCalls } from './vfs-image';
import type { DirNode } from './vfs';

export { WASIProcExit };

/** A WASI process: its imports, and `start` to run an instance's `_start`. */
export interface WasiProcess {
  /** Functions; where the realm may not block, the blocking ones are JSPI `Suspending` imports. */
  imports: Record<string, ((...args: never[]) => number | void) | WebAssembly.Suspending>;
  /** Runs `_start`; returns the exit code or throws what the guest threw (a trap). */
  start(instance: WebAssembly.Instance): number;
  /** Binds the instance without running it (the caller runs `_start` itself). */
  bind(instance: WebAssembly.Instance): void;
  /** Ends of stream for the page: called on every exit path. */
  closeStdio(): void;
  /** Writes back every home file still open and changed (a module need not close its files). */
  keepFiles(): void;
  /** Its open files and their tree, as a snapshot carries them (vfs-image.ts). */
  captureFiles(): unknown;
  /** Puts back the files of a snapshot, before `_start` rewinds; false: not an image (the files stay as started). */
  restoreFiles(image: unknown): boolean;
}

type Imports = Record<string, (...args: never[]) => number | void>;

const encoder = new TextEncoder();

/**
 * How the blocking calls wait: `block` (a worker: `Atomics.wait`), or `suspend` (a thread that may
 * not block, such as the page: the module is suspended with JSPI while a promise settles).
 * `bracket` wraps each suspending call for the watchdog.
 */
export interface WaitStyle {
  suspend: boolean;
  /** Blocking kernel calls, for the preopens the page keeps (home.ts). */
  kernel?: KernelCall;
  /** The channel to the file server, for the preopens that are the module's home in OPFS (home-opfs.ts). */
  fileChannel?: SharedArrayBuffer;
  bracket?: <R>(f: () => Promise<R>) => Promise<R>;
  /** A migratable process: its polls are safe points (poll.ts). */
  park?: PollPark;
}

export function createWasiProcess(o: WasiProcessOptions, style: WaitStyle = { suspend: false }): WasiProcess {
  const stdin = new RingReaderFd(new Ring(o.stdin), o.tty);
  // The page may stop reading (a cancelled stream): output is then discarded, as to /dev/null.
  // A module reading our stdout may exit: then, as with a pipe, the writer gets EPIPE.
  const stdout = new RingWriterFd(new Ring(o.stdout), o.tty, o.stdoutIsPipe ? 'epipe' : 'discard');
  const stderr = new RingWriterFd(new Ring(o.stderr), o.tty, 'discard');
  const preopens = planPreopens(o.preopens, o.files).map(buildPreopen);
  const kernel = style.kernel;
  const opfs = style.fileChannel !== undefined && o.opfsHome !== undefined ? { keeper: new OpfsKeeper(style.fileChannel), dirs: o.opfsHome.dirs } : undefined;
  // Each kept directory's calls name it, so the page finds its root (a home or a picked folder).
  const homeCalls = new Map<string, KernelCall>();
  if (kernel !== undefined) for (const dir of o.homes ?? []) homeCalls.set(dir, (call, args) => kernel(call, { ...(args as object), mount: dir }));
  const keepers = new Map<Keeper, string>();
  const roots = new WeakMap<DirNode, string>();
  const keepAs = (root: DirNode, mount: string, keeper: Keeper): void => {
    keepers.set(keeper, mount);
    roots.set(root, mount);
    keepTree(root, keeper);
  };
  // A tree restored from a snapshot (ADR 0028) has its bytes in the image: the page keeps it
  // from then on (ADR 0018), one keeper per mount for its root and its open files alike.
  const restored = new Map<string, PageKeeper>();
  const restoredKeeper = (mount: string): PageKeeper | undefined => {
    const call = homeCalls.get(mount);
    if (call === undefined) return undefined;
    let k = restored.get(mount);
    if (k === undefined) restored.set(mount, (k = new PageKeeper(call)));
    return k;
  };
  const homes: HomeCalls = {
    mountOf: (keeper) => keepers.get(keeper),
    keeperFor: (mount) => restoredKeeper(mount),
    rootMount: (root) => roots.get(root),
    keep: (root, mount) => {
      const k = restoredKeeper(mount);
      if (k !== undefined) keepAs(root, mount, k);
    },
  };
  for (const p of preopens) {
    const dir = p.preopen;
    if (dir === undefined) continue;
    if (opfs !== undefined && opfs.dirs.includes(dir)) {
      // The home: its names now, its bytes when read (ADR 0025).
      opfs.keeper.list(p.node);
      keepAs(p.node, dir, opfs.keeper);
      continue;
    }
    const call = homeCalls.get(dir);
    if (call !== undefined) keepAs(p.node, dir, new PageKeeper(call));
  }
  const fds: Fd[] = [stdin, stdout, stderr, ...preopens];
  const shim = new WASI(o.args, o.env, fds);
  const memory = (): ArrayBuffer | SharedArrayBuffer => shim.inst.exports.memory.buffer;
  const table = (): Array<Fd | undefined> => shim.fds as Array<Fd | undefined>;
  const args = o.args.map((a) => encoder.encode(a));
  const env = o.env.map((e) => encoder.encode(e));
  const fs = vfsImports(memory, table, (name, ...a) => call(shim, name, ...a));

  const mended: Imports = {
    args_sizes_get: (countPtr: number, sizePtr: number) => writeSizes(memory(), args, countPtr, sizePtr),
    args_get: (ptrs: number, buf: number) => writeStrings(memory(), args, ptrs, buf),
    environ_sizes_get: (countPtr: number, sizePtr: number) => writeSizes(memory(), env, countPtr, sizePtr),
    environ_get: (ptrs: number, buf: number) => writeStrings(memory(), env, ptrs, buf),
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      const t = now(id);
      if (t === null) return wasi.ERRNO_INVAL;
      new DataView(memory()).setBigUint64(out, BigInt(Math.round(t)), true);
      return wasi.ERRNO_SUCCESS;
    },
    clock_res_get: (id: number, out: number) => {
      const r = resolution(id);
      if (r === null) return wasi.ERRNO_INVAL;
      new DataView(memory()).setBigUint64(out, BigInt(r), true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_read: (fd: number, iovs: number, iovsLen: number, nreadPtr: number) => {
      const f = table()[fd];
      if (!(f instanceof RingReaderFd)) return fsCall(fs, 'fd_read', fd, iovs, iovsLen, nreadPtr);
      // One blocking read per call, straight into guest memory, like read(2) on a pipe.
      const view = new DataView(memory());
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        if (len === 0) continue;
        const n = total === 0 ? f.readInto(new Uint8Array(memory(), ptr, len)) : f.ring.read(new Uint8Array(memory(), ptr, len));
        total += n;
        if (n < len) break;
      }
      new DataView(memory()).setUint32(nreadPtr, total, true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
      const f = table()[fd];
      if (!(f instanceof RingWriterFd)) return fsCall(fs, 'fd_write', fd, iovs, iovsLen, nwrittenPtr);
      const view = new DataView(memory());
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        const r = f.writeAll(new Uint8Array(memory(), ptr, len));
        if (typeof r !== 'number') {
          if (total === 0) return r.errno;
          break;
        }
        total += r;
      }
      new DataView(memory()).setUint32(nwrittenPtr, total, true);
      return wasi.ERRNO_SUCCESS;
    },
    poll_oneoff: (inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) =>
      pollOneoff(memory, table, inPtr, outPtr, nsubs, neventsPtr, style.park),
    random_get: (ptr: number, len: number) => {
      const dst = new Uint8Array(memory(), ptr, len);
      // getRandomValues refuses shared memory and more than 64 KiB at once.
      for (let at = 0; at < len; at += 65536) {
        const chunk = new Uint8Array(Math.min(65536, len - at));
        crypto.getRandomValues(chunk);
        dst.set(chunk, at);
      }
      return wasi.ERRNO_SUCCESS;
    },
    sched_yield: () => wasi.ERRNO_SUCCESS,
    proc_raise: () => wasi.ERRNO_NOTSUP,
    sock_accept: (fd: number) => notSocket(table(), fd),
    sock_recv: (fd: number) => notSocket(table(), fd),
    sock_send: (fd: number) => notSocket(table(), fd),
    sock_shutdown: (fd: number) => notSocket(table(), fd),
  };

  const imports: WasiProcess['imports'] = faultsAsErrno({ ...(shim.wasiImport as Imports), ...fs, ...mended });
  if (style.suspend) {
    const bracket = style.bracket ?? (<R>(f: () => Promise<R>) => f());
    const fdRead = imports.fd_read as (fd: number, iovs: number, iovsLen: number, nreadPtr: number) => number;
    imports.fd_read = new WebAssembly.Suspending((fd: number, iovs: number, iovsLen: number, nreadPtr: number) =>
      bracket(async () => {
        const f = table()[fd];
        // Waits here instead of blocking; the read then finds data or the end.
        if (f instanceof RingReaderFd) while (f.ring.available() === 0 && !f.ring.writerClosed) await f.ring.readable();
        return fdRead(fd, iovs, iovsLen, nreadPtr);
      }),
    );
    imports.fd_write = new WebAssembly.Suspending((fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) =>
      bracket(() => writeSuspending(memory, table, fs, fd, iovs, iovsLen, nwrittenPtr).catch(faultErrno)),
    );
    imports.poll_oneoff = new WebAssembly.Suspending((inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) =>
      bracket(() => pollOneoffSuspending(memory, table, inPtr, outPtr, nsubs, neventsPtr).catch(faultErrno)),
    );
  }

  return {
    imports,
    start: (instance) => shim.start(instance as never),
    bind: (instance) => {
      shim.inst = instance as never;
    },
    keepFiles: () => {
      for (const f of table()) if (f instanceof FileFd) keepFile(f, true);
    },
    captureFiles: () => captureFiles(table(), [stdin, stdout, stderr], homes),
    restoreFiles: (image) => {
      const restored = restoreFiles(image, [stdin, stdout, stderr], homes);
      if (restored === undefined) return false;
      shim.fds.splice(0, shim.fds.length, ...(restored as Fd[]));
      return true;
    },
    closeStdio: () => {
      stdout.ring.closeWriter();
      stderr.ring.closeWriter();
      stdin.ring.closeReader();
    },
  };
}

/**
 * A pointer or length that reaches outside the guest's memory makes a typed-array or DataView
 * access throw a RangeError in the host function; the call fails with EFAULT instead of trapping
 * the guest (as wasmtime answers). A deep recursion's RangeError is not a fault: it goes on.
 */
function isFault(e: unknown): boolean {
  return e instanceof RangeError && !/call stack/i.test(e.message);
}

/** The errno of a fault; anything else is thrown on. */
function faultErrno(e: unknown): number {
  if (isFault(e)) return wasi.ERRNO_FAULT;
  throw e;
}

/** The imports, each answering EFAULT where it would have thrown a fault into the guest. */
function faultsAsErrno(imports: Imports): Imports {
  const out: Imports = {};
  for (const [name, f] of Object.entries(imports)) {
    out[name] = (...args: never[]) => {
      try {
        return f(...args);
      } catch (e) {
        return faultErrno(e);
      }
    };
  }
  return out;
}

/** `fd_write` that waits for room by suspending the module, never blocking the realm. */
async function writeSuspending(
  memory: () => ArrayBuffer | SharedArrayBuffer,
  table: () => Array<Fd | undefined>,
  fs: Imports,
  fd: number,
  iovs: number,
  iovsLen: number,
  nwrittenPtr: number,
): Promise<number> {
  const f = table()[fd];
  if (!(f instanceof RingWriterFd)) return fsCall(fs, 'fd_write', fd, iovs, iovsLen, nwrittenPtr);
  let total = 0;
  for (let i = 0; i < iovsLen; i++) {
    const view = new DataView(memory());
    const ptr = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    let done = 0;
    while (done < len) {
      if (f.ring.readerClosed) {
        if (!f.epipe) return writeCount(memory, nwrittenPtr, total + len - done);
        if (total === 0) return wasi.ERRNO_PIPE;
        return writeCount(memory, nwrittenPtr, total);
      }
      const n = f.ring.write(new Uint8Array(memory(), ptr + done, len - done));
      done += n;
      total += n;
      if (n === 0) await f.ring.writable();
    }
  }
  return writeCount(memory, nwrittenPtr, total);
}

function writeCount(memory: () => ArrayBuffer | SharedArrayBuffer, ptr: number, n: number): number {
  new DataView(memory()).setUint32(ptr, n, true);
  return wasi.ERRNO_SUCCESS;
}

function call(shim: WASI, name: string, ...args: Array<number | bigint>): number {
  const f = shim.wasiImport[name];
  return f === undefined ? wasi.ERRNO_NOSYS : (f(...args) as number);
}

/** One of the file system's imports. */
function fsCall(fs: Imports, name: string, ...args: number[]): number {
  const f = fs[name] as ((...a: number[]) => number) | undefined;
  return f === undefined ? wasi.ERRNO_NOSYS : f(...args);
}

/** There are no sockets: an open fd is not one, anything else is not open. */
function notSocket(fds: Array<Fd | undefined>, fd: number): number {
  return fds[fd] === undefined ? wasi.ERRNO_BADF : wasi.ERRNO_NOTSOCK;
}

function writeSizes(mem: ArrayBuffer | SharedArrayBuffer, items: Uint8Array[], countPtr: number, sizePtr: number): number {
  const view = new DataView(mem);
  view.setUint32(countPtr, items.length, true);
  view.setUint32(sizePtr, items.reduce((n, s) => n + s.length + 1, 0), true);
  return wasi.ERRNO_SUCCESS;
}

function writeStrings(mem: ArrayBuffer | SharedArrayBuffer, items: Uint8Array[], ptrs: number, buf: number): number {
  const view = new DataView(mem);
  const bytes = new Uint8Array(mem);
  for (const [i, s] of items.entries()) {
    view.setUint32(ptrs + i * 4, buf, true);
    bytes.set(s, buf);
    bytes[buf + s.length] = 0;
    buf += s.length + 1;
  }
  return wasi.ERRNO_SUCCESS;
}
