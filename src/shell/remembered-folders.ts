/**
 * The folders the person mounted for modules (Mount a folder…), remembered across reloads: a
 * `FileSystemDirectoryHandle` can be stored in IndexedDB, and the browser asks again for
 * readwrite on it when the page next uses it (ADR 0024). Kept in the shell's own database,
 * `webmk-shell`, one entry per module.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

interface ShellDB extends DBSchema {
  folders: { key: string; value: FileSystemDirectoryHandle };
}

let db: Promise<IDBPDatabase<ShellDB>> | undefined;

function open(): Promise<IDBPDatabase<ShellDB>> {
  db ??= openDB<ShellDB>('webmk-shell', 1, {
    upgrade(d) {
      d.createObjectStore('folders');
    },
  });
  return db;
}

/** Every remembered folder, by module name; none where the database cannot open. */
export async function rememberedFolders(): Promise<Map<string, FileSystemDirectoryHandle>> {
  try {
    const d = await open();
    const tx = d.transaction('folders');
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
    return new Map(keys.map((k, i) => [k, values[i] as FileSystemDirectoryHandle]));
  } catch {
    return new Map(); // private browsing or a broken database: folders are then picked per page
  }
}

/** Remembers `handle` for `module`'s runs, or forgets the folder (undefined). */
export async function rememberFolder(module: string, handle: FileSystemDirectoryHandle | undefined): Promise<void> {
  const d = await open();
  if (handle === undefined) await d.delete('folders', module);
  else await d.put('folders', handle, module);
}
