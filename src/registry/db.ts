/** The registry's IndexedDB schema and its numbered migrations. */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { ModuleInfo } from '../common';

/** A module's bytes, stored once per content hash. */
export interface BlobRecord {
  sha256: string;
  bytes: ArrayBuffer;
}

export interface RegistrySchema extends DBSchema {
  modules: { key: string; value: ModuleInfo; indexes: { 'by-sha256': string } };
  blobs: { key: string; value: BlobRecord };
}

export type RegistryDb = IDBPDatabase<RegistrySchema>;
type UpgradeTx = IDBPTransaction<RegistrySchema, StoreNames<RegistrySchema>[], 'versionchange'>;

/** Migration N takes the database from version N to N + 1. Append only; never edit one. */
const MIGRATIONS: Array<(db: RegistryDb, tx: UpgradeTx) => void> = [
  (db) => {
    const modules = db.createObjectStore('modules', { keyPath: 'name' });
    modules.createIndex('by-sha256', 'sha256');
    db.createObjectStore('blobs', { keyPath: 'sha256' });
  },
  // Modules gain `requested` and `grants`; a module stored before asked for and holds nothing.
  (_db, tx) => {
    void tx
      .objectStore('modules')
      .openCursor()
      .then(async function step(cursor): Promise<void> {
        if (cursor === null) return;
        const m = cursor.value as Partial<ModuleInfo> & ModuleInfo;
        await cursor.update({ ...m, requested: m.requested ?? [], grants: m.grants ?? { publish: [], subscribe: [], kernel: [] } });
        return step(await cursor.continue());
      });
  },
  // Modules gain `config` (kernel.configure); a module stored before has none configured.
  (_db, tx) => {
    void tx
      .objectStore('modules')
      .openCursor()
      .then(async function step(cursor): Promise<void> {
        if (cursor === null) return;
        const m = cursor.value as Partial<ModuleInfo> & ModuleInfo;
        await cursor.update({ ...m, config: m.config ?? {} });
        return step(await cursor.continue());
      });
  },
  // Modules gain `kind`: every module stored before is WebAssembly.
  (_db, tx) => {
    void tx
      .objectStore('modules')
      .openCursor()
      .then(async function step(cursor): Promise<void> {
        if (cursor === null) return;
        const m = cursor.value as Partial<ModuleInfo> & ModuleInfo;
        await cursor.update({ ...m, kind: m.kind ?? 'wasm' });
        return step(await cursor.continue());
      });
  },
];

export const DB_VERSION = MIGRATIONS.length;

/** Opens (and migrates) the registry database. */
export async function openRegistryDb(name: string): Promise<RegistryDb> {
  const db: RegistryDb = await openDB<RegistrySchema>(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      for (let v = oldVersion; v < DB_VERSION; v++) MIGRATIONS[v]?.(db, tx);
    },
    blocking() {
      // A newer version of the app in another tab wants to migrate: step aside.
      db.close();
    },
  });
  return db;
}
