/**
 * Modules' homes: one directory per module in the origin-private file system (OPFS), under
 * `webmk-homes/<module name>/`. The page reads and writes them for processes (whose worker
 * blocks while it does, see ADR 0018) and hands them to page scripts as directory handles.
 * A file is replaced whole, through `createWritable()`: the browser writes a swap file and
 * moves it in place only when it closes, so a failed write never leaves a half-written file.
 * A folder the person picked (a directory handle) is kept the same way (ADR 0024): every
 * function takes a root, a module's name for its home or the handle itself.
 */
import { KernelError } from '../common';

const ROOT = 'webmk-homes';

/** The origin-private file system, or a refusal where the browser has none. */
async function opfs(): Promise<FileSystemDirectoryHandle> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (storage?.getDirectory === undefined) throw new KernelError('kernel/unsupported', 'this browser has no origin-private file system, so modules have no home');
  try {
    return await storage.getDirectory();
  } catch (e) {
    throw new KernelError('kernel/unsupported', `the origin-private file system is not available here: ${String(e)}`);
  }
}

/** Where a process's files are kept: a module's name (its home) or a folder the person picked. */
export type HomeRoot = string | FileSystemDirectoryHandle;

/** The directory a root names. */
function rootDirectory(root: HomeRoot): Promise<FileSystemDirectoryHandle> {
  return typeof root === 'string' ? homeDirectory(root) : Promise.resolve(root);
}

/** The home directory of `module`, made if it is missing. */
export async function homeDirectory(module: string): Promise<FileSystemDirectoryHandle> {
  const root = await (await opfs()).getDirectoryHandle(ROOT, { create: true });
  return root.getDirectoryHandle(module, { create: true });
}

/** Every file of a home (or a picked folder), by path relative to it (`a/b.txt`), and its directories (`a/`). */
export async function readHome(module: HomeRoot, limit?: { bytes: number; entries: number }): Promise<Array<[string, Uint8Array]>> {
  const out: Array<[string, Uint8Array]> = [];
  let bytes = 0;
  /** Refuses, before reading past it, a tree larger than `limit` (a picked folder may be anything). */
  const within = (more: number): void => {
    bytes += more;
    if (limit === undefined || (bytes <= limit.bytes && out.length <= limit.entries)) return;
    const name = typeof module === 'string' ? module : module.name;
    throw new KernelError('kernel/unsupported', `folder "${name}" holds more than ${limit.entries} entries or ${limit.bytes / 1048576} MiB, all of which a process would load: mount a smaller folder`, { limit });
  };
  const walk = async (dir: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
    for await (const [name, handle] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) {
      try {
        if (handle.kind === 'directory') {
          out.push([`${prefix}${name}/`, new Uint8Array(0)]);
          within(0);
          await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`);
        } else {
          const file = await (handle as FileSystemFileHandle).getFile();
          within(file.size);
          out.push([`${prefix}${name}`, new Uint8Array(await file.arrayBuffer())]);
        }
      } catch (e) {
        // Removed or replaced by another process while this one was listed: not there.
        if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
      }
    }
  };
  await io(async () => walk(await rootDirectory(module), ''));
  return out;
}

/** Splits a path relative to a home into names; `..`, `.` and empty names are refused. */
function names(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) throw new KernelError('kernel/bad-argument', `"${path}" is not a path inside a home`, { path });
  return parts;
}

/** The directory holding `path`'s last name (made on the way with `create`) and that name. */
async function parentOf(module: HomeRoot, path: string, create: boolean): Promise<[FileSystemDirectoryHandle, string]> {
  const parts = names(path);
  const leaf = parts.pop() as string;
  let dir = await rootDirectory(module);
  for (const p of parts) dir = await dir.getDirectoryHandle(p, { create });
  return [dir, leaf];
}

/** A file's bytes, or null where there is none. */
export async function readHomeFile(module: HomeRoot, path: string): Promise<Uint8Array | null> {
  try {
    const [dir, leaf] = await parentOf(module, path, false);
    const file = await (await dir.getFileHandle(leaf)).getFile();
    return new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    if (e instanceof KernelError) throw e;
    if (e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError')) return null;
    throw storageError(e);
  }
}

/**
 * Replaces a file whole (making it and its directories where missing). The swap file is first
 * sized to the new length, which reserves the room: a full disk is then refused as such
 * (`QuotaExceededError`) before any byte is sent. Without it, Chromium may fail the write half-way
 * with a bare `AbortError` ("Failed to write data to data pipe") that does not say why.
 */
export async function writeHomeFile(module: HomeRoot, path: string, bytes: Uint8Array): Promise<void> {
  await io(async () => {
    const [dir, leaf] = await parentOf(module, path, true);
    const w = await (await dir.getFileHandle(leaf, { create: true })).createWritable({ keepExistingData: false });
    try {
      await w.truncate(bytes.length);
      await w.write(bytes as Uint8Array<ArrayBuffer>);
      await w.close();
    } catch (e) {
      await w.abort().catch(() => {}); // the swap file goes, the old file stays
      throw e;
    }
  });
}

/** Makes a directory (and its parents). */
export async function makeHomeDirectory(module: HomeRoot, path: string): Promise<void> {
  await io(async () => {
    const [dir, leaf] = await parentOf(module, path, true);
    await dir.getDirectoryHandle(leaf, { create: true });
  });
}

/** Removes a file or a directory (with what it holds); a missing one is no error. */
export async function removeHomeEntry(module: HomeRoot, path: string): Promise<void> {
  try {
    const [dir, leaf] = await parentOf(module, path, false);
    await dir.removeEntry(leaf, { recursive: true });
  } catch (e) {
    if (e instanceof KernelError) throw e;
    if (e instanceof DOMException && e.name === 'NotFoundError') return;
    throw storageError(e);
  }
}

/** Runs an OPFS operation; its failures become KernelErrors (`kernel/no-space` for a full disk). */
async function io<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof KernelError) throw e;
    throw storageError(e);
  }
}

function storageError(e: unknown): KernelError {
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    return new KernelError('kernel/no-space', 'the browser refused the storage: the disk or this origin\'s quota is full', { name: e.name });
  }
  const name = e instanceof DOMException ? e.name : 'Error';
  return new KernelError('kernel/storage', `a home could not be read or written: ${String(e)}`, { name });
}
