/** The registry's IndexedDB schema and its numbered migrations. */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { ModuleInfo, PackageRecord, TrustedKey } from '../common';

/** A module's bytes, stored once per content hash. */
export interface BlobRecord {
  sha256: string;
  bytes: ArrayBuffer;
}

export interface RegistrySchema extends DBSchema {
  modules: { key: string; value: ModuleInfo; indexes: { 'by-sha256': string } };
  blobs: { key: string; value: BlobRecord };
  packages: { key: string; value: PackageRecord };
  keys: { key: string; value: TrustedKey };
}

export type RegistryDb = IDBPDatabase<RegistrySchema>;
type UpgradeTx = IDBPTransaction<RegistrySchema, StoreNames<RegistrySchema>[], 'versionchange'>;

type Stored = Partial<ModuleInfo> & ModuleInfo;

/**
 * Migration N takes the database from version N to N + 1: a schema change, a change to every
 * stored module record, or both. Append only; never edit one. The record changes of all the
 * versions a database is behind run in order in one pass over the records (several passes at
 * once would interleave and overwrite each other's updates).
 */
const MIGRATIONS: Array<{ schema?: (db: RegistryDb) => void; record?: (m: Stored) => Stored }> = [
  {
    schema: (db) => {
      const modules = db.createObjectStore('modules', { keyPath: 'name' });
      modules.createIndex('by-sha256', 'sha256');
      db.createObjectStore('blobs', { keyPath: 'sha256' });
    },
  },
  // Modules gain `requested` and `grants`; a module stored before asked for and holds nothing.
  { record: (m) => ({ ...m, requested: m.requested ?? [], grants: m.grants ?? { publish: [], subscribe: [], kernel: [] } }) },
  // Modules gain `config` (kernel.configure); a module stored before has none configured.
  { record: (m) => ({ ...m, config: m.config ?? {} }) },
  // Modules gain `kind`: every module stored before is WebAssembly.
  { record: (m) => ({ ...m, kind: m.kind ?? 'wasm' }) },
  // Packages and trusted keys; every module stored before is a package of one, named after it
  // (the registry shows a module without a package record as such: see Registry.packages).
  {
    schema: (db) => {
      db.createObjectStore('packages', { keyPath: 'name' });
      db.createObjectStore('keys', { keyPath: 'publicKey' });
    },
    record: (m) => ({ ...m, package: m.package ?? m.name }),
  },
];

export const DB_VERSION = MIGRATIONS.length;

function migrate(db: RegistryDb, tx: UpgradeTx, from: number): void {
  const steps = MIGRATIONS.slice(from);
  for (const step of steps) step.schema?.(db);
  const records = steps.flatMap((step) => (step.record !== undefined ? [step.record] : []));
  if (records.length === 0 || from === 0) return; // a new database has no records yet
  void tx
    .objectStore('modules')
    .openCursor()
    .then(async function next(cursor): Promise<void> {
      if (cursor === null) return;
      await cursor.update(records.reduce((m, change) => change(m), cursor.value as Stored));
      return next(await cursor.continue());
    });
}

/** Opens (and migrates) the registry database. */
export async function openRegistryDb(name: string): Promise<RegistryDb> {
  const db: RegistryDb = await openDB<RegistrySchema>(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      migrate(db, tx, oldVersion);
    },
    blocking() {
      // A newer version of the app in another tab wants to migrate: step aside.
      db.close();
    },
  });
  return db;
}
