/**
 * The OPFS side of the file server (ADR 0025): a module's home directory, the sync access handles
 * its processes share, and the swap files their writes go to until a close moves them in place.
 * This file and registry/homes.ts are the only ones that may touch OPFS (`.oxlintrc.json`).
 */
import type { FileFailure } from '../ipc';

/** A sync access handle (Chromium: `createSyncAccessHandle`), typed here: the DOM library lacks it. */
export interface SyncHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

type SyncOpening = { createSyncAccessHandle(o?: { mode: 'readwrite' | 'readwrite-unsafe' }): Promise<SyncHandle> };
type Movable = { move(dir: FileSystemDirectoryHandle, name: string): Promise<void> };

/** Where homes live (as registry/homes.ts keeps them) and where swap files wait. */
const HOMES = 'webmk-homes';
const SWAP = 'webmk-swap';

/** A failure answered to the process, as an errno. */
export class FileError extends Error {
  constructor(
    readonly code: FileFailure,
    message: string = code,
  ) {
    super(message);
  }
}

/** The failure an OPFS exception means. */
export function failureOf(e: unknown): FileError {
  if (e instanceof FileError) return e;
  const name = e instanceof DOMException ? e.name : '';
  const code: FileFailure =
    name === 'NotFoundError' ? 'notfound' : name === 'TypeMismatchError' ? 'notdir' : name === 'QuotaExceededError' ? 'nospace' : name === 'InvalidModificationError' ? 'exists' : 'io';
  return new FileError(code, String(e));
}

/** Opens a handle several processes (and tabs) may hold on one file at once (Chromium's `readwrite-unsafe`). */
export function openShared(file: FileSystemFileHandle): Promise<SyncHandle> {
  return (file as unknown as SyncOpening).createSyncAccessHandle({ mode: 'readwrite-unsafe' });
}

/** Moves `file` to `name` in `dir`, replacing a file there (OPFS replaces it whole, at once). */
export function moveFile(file: FileSystemFileHandle | FileSystemDirectoryHandle, dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  return (file as unknown as Movable).move(dir, name);
}

/** Splits a path relative to a home; `..` and `.` are refused. */
export function namesOf(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) throw new FileError('inval', `"${path}" is not inside a home`);
  return parts;
}

/** A handle on a real file of a home, shared by every process of this page that has it open. */
interface Shared {
  sah: SyncHandle | undefined;
  users: number;
}

/** One module's home, as the server holds it: its directory and the shared handles on its files. */
export class Home {
  private dir: Promise<FileSystemDirectoryHandle> | undefined;
  private readonly shared = new Map<string, Shared>();

  constructor(readonly module: string) {}

  /** The home's directory (made if missing). */
  root(): Promise<FileSystemDirectoryHandle> {
    this.dir ??= navigator.storage
      .getDirectory()
      .then((o) => o.getDirectoryHandle(HOMES, { create: true }))
      .then((h) => h.getDirectoryHandle(this.module, { create: true }));
    this.dir.catch(() => (this.dir = undefined));
    return this.dir;
  }

  /** Forgets the home's directory (removed from outside, say by a page script): it is made again at the next use. */
  forget(): void {
    this.dir = undefined;
  }

  /** The directory `names` lead to (made on the way with `create`). */
  async directory(names: string[], create = false): Promise<FileSystemDirectoryHandle> {
    let d = await this.root();
    for (const n of names) d = await d.getDirectoryHandle(n, { create });
    return d;
  }

  /** The directory holding `path` and its last name. */
  async parent(path: string, create = false): Promise<[FileSystemDirectoryHandle, string]> {
    const names = namesOf(path);
    const leaf = names.pop();
    if (leaf === undefined) throw new FileError('inval', 'the home itself');
    return [await this.directory(names, create), leaf];
  }

  /** Takes a use of the shared handle on `path` (opened at the first read). */
  hold(path: string): void {
    const s = this.shared.get(path);
    if (s !== undefined) s.users++;
    else this.shared.set(path, { sah: undefined, users: 1 });
  }

  /** Gives a use back; the last closes the handle. */
  release(path: string): void {
    const s = this.shared.get(path);
    if (s === undefined) return;
    if (--s.users > 0) return;
    s.sah?.close();
    this.shared.delete(path);
  }

  /** The shared handle on `path`, opened if it is not. */
  async handle(path: string): Promise<SyncHandle> {
    const s = this.shared.get(path) ?? { sah: undefined, users: 0 };
    if (s.sah !== undefined) return s.sah;
    const [dir, leaf] = await this.parent(path);
    const sah = await openShared(await dir.getFileHandle(leaf));
    if (this.shared.get(path) === s && s.sah === undefined) {
      s.sah = sah;
      return sah;
    }
    sah.close();
    return this.handle(path);
  }

  /**
   * Closes the shared handles on `path` and under it (they open again at the next read): a file
   * with a handle open cannot be moved over or removed.
   */
  let(path: string): void {
    for (const [p, s] of this.shared) {
      if (p !== path && !p.startsWith(`${path}/`)) continue;
      s.sah?.close();
      s.sah = undefined;
    }
  }

  /** Moves the holds of `from` and what is under it to `to` (a rename). */
  renamed(from: string, to: string): void {
    for (const [p, s] of [...this.shared]) {
      if (p !== from && !p.startsWith(`${from}/`)) continue;
      this.shared.delete(p);
      this.shared.set(to + p.slice(from.length), s);
    }
  }
}

/** A swap file: written instead of a home's file until a commit moves it over that file. */
export interface Swap {
  file: FileSystemFileHandle;
  sah: SyncHandle;
  name: string;
  dir: FileSystemDirectoryHandle;
}

/** This server's own swap folder: another tab's server has its own. */
const SWAP_OF_THIS = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
/**
 * The Web Lock a server holds on its swap folder for its life (ADR 0031): released by the browser
 * when the server's worker ends (its tab closed or crashed), so a sweep knows a folder is a gone
 * server's, never a live one's in another tab, by taking its lock.
 */
const lockOf = (folder: string): string => `webmk-swap:${folder}`;

let held: Promise<void> | undefined;
/** Takes this server's lock (held until the worker ends); resolves once it is held. */
function holdSwapLock(): Promise<void> {
  held ??= new Promise<void>((granted, refused) => {
    navigator.locks.request(lockOf(SWAP_OF_THIS), () => {
      granted();
      return new Promise<never>(() => {});
    }).catch(refused);
  });
  return held;
}

let swept: Promise<void> | undefined;
let swapDir: Promise<FileSystemDirectoryHandle> | undefined;
let swapCount = 0;
let spare: Promise<Swap> | undefined;

/** Makes this server's folder: its lock first (so no sweep can take it for a gone server's), after its own sweep. */
function ownFolder(): Promise<FileSystemDirectoryHandle> {
  swapDir ??= holdSwapLock()
    .then(() => sweepSwaps())
    .then(() => navigator.storage.getDirectory())
    .then((o) => o.getDirectoryHandle(SWAP, { create: true }))
    .then((d) => d.getDirectoryHandle(SWAP_OF_THIS, { create: true }));
  swapDir.catch(() => (swapDir = undefined));
  return swapDir;
}

async function makeSwap(): Promise<Swap> {
  const dir = await ownFolder();
  const name = `s${++swapCount}`;
  const file = await dir.getFileHandle(name, { create: true });
  return { file, sah: await (file as unknown as SyncOpening).createSyncAccessHandle(), name, dir };
}

/**
 * A new swap file, outside every home (so no listing of a home shows it). One is made ahead, for
 * the next first write not to wait for a handle to open (a few ms each, ADR 0031).
 */
export async function swapFile(): Promise<Swap> {
  const ready = spare;
  spare = undefined;
  let swap: Swap;
  try {
    swap = await (ready ?? makeSwap());
  } catch (e) {
    // The folder was removed from outside (say, by a page script clearing OPFS), or the one made
    // ahead failed: once more, now.
    if (e instanceof DOMException && e.name === 'NotFoundError') swapDir = undefined;
    else if (ready === undefined) throw e;
    swap = await makeSwap();
  }
  const next = makeSwap();
  next.catch(() => {
    if (spare === next) spare = undefined;
  });
  spare = next;
  return swap;
}

/**
 * Removes the swap folders of servers that are gone (a tab closed or crashed mid-write), once per
 * server: a folder whose lock another server holds is a live server's and stays, whatever it holds.
 */
export function sweepSwaps(): Promise<void> {
  swept ??= (async () => {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(SWAP, { create: true });
    const names: string[] = [];
    for await (const [name] of root as unknown as AsyncIterable<[string, FileSystemHandle]>) if (name !== SWAP_OF_THIS) names.push(name);
    for (const name of names) {
      await navigator.locks.request(lockOf(name), { ifAvailable: true }, async (lock) => {
        if (lock !== null) await root.removeEntry(name, { recursive: true }).catch(() => {});
      });
    }
  })().catch(() => {});
  return swept;
}
