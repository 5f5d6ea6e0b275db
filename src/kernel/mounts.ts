/**
 * What a process keeps beyond its run: its module's home and the folders the person picked for
 * it (ADR 0018, ADR 0024, ADR 0025). A home is read and written from the worker through the file
 * server; a picked folder is loaded whole into its in-memory tree at spawn and kept in step
 * through the home calls (home-calls.ts), which find the root of each by the guest directory the
 * worker names.
 */
import { KernelError } from '../common';
import { readHome, type HomeRoot } from '../registry';
import type { CheckedSpawn } from './spawn-options';

/** The most a picked folder may hold: it is loaded whole into each process that mounts it. */
export const FOLDER_LIMIT = { bytes: 64 * 1024 * 1024, entries: 10_000 } as const;

/** A process's kept directories: guest directory to root; `''` is its home (calls that name no mount). */
export type MountTable = Map<string, HomeRoot>;

/** The kept directories of a spawn, or undefined when it has none. */
export function mountTable(o: CheckedSpawn, module: string): MountTable | undefined {
  if (o.homes.length === 0 && o.folders.length === 0) return undefined;
  const table: MountTable = new Map(o.folders);
  for (const dir of o.homes) table.set(dir, module).set('', module);
  return table;
}

/** A handle's permission state, where the browser tells (the File System Access API's). */
type Permissioned = FileSystemDirectoryHandle & { queryPermission?: (d: { mode: 'readwrite' }) => Promise<string> };

/**
 * Adds what the picked folders hold to the spawn's files (a home is not loaded). Refuses outside worker
 * mode (`kernel/unsupported`: only a worker can block while the page does the work), a folder
 * past FOLDER_LIMIT (`kernel/unsupported`) and one the page holds no readwrite permission on
 * (`kernel/denied`).
 */
export async function loadMounts(o: CheckedSpawn, module: string): Promise<void> {
  const table = mountTable(o, module);
  if (table === undefined) return;
  if (o.mode !== 'worker') {
    const what = o.folders.length > 0 ? 'a mounted folder' : 'a home';
    throw new KernelError('kernel/unsupported', `${what} is kept only for a process in worker mode, not "${o.mode}"`, { mode: o.mode });
  }
  for (const [dir, handle] of o.folders) {
    const state = await (handle as Permissioned).queryPermission?.({ mode: 'readwrite' });
    if (state !== undefined && state !== 'granted') {
      throw new KernelError('kernel/denied', `the page may not write folder "${handle.name}" (${state}): ask with requestPermission({ mode: 'readwrite' }) first`, { dir, state });
    }
  }
  for (const [dir, root] of table) {
    // A home is not loaded: the worker lists it and reads its files through the file server (ADR 0025).
    if (dir === '' || typeof root === 'string') continue;
    const base = dir.replace(/\/+$/, '');
    const tree = await readHome(root, typeof root === 'string' ? undefined : FOLDER_LIMIT);
    o.files = [...o.files, ...tree.map(([p, b]): [string, Uint8Array] => [`${base}/${p}`, b])];
  }
}
