/**
 * Hibernated processes (ADR 0019): each one's snapshot and what it was started with, in a
 * database of their own beside the registry's (`<name>-hibernated`), so they survive a reload
 * and the registry's schema stays as it is. Records are plain data; the kernel parses them.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { storageError } from './tx';

/** One hibernated process as stored. */
export interface HibernatedRecord {
  pid: number;
  /** The module it runs, and the hash of the (instrumented) bytes its snapshot belongs to. */
  module: string;
  sha256: string;
  /** What it was started with (the kernel's checked spawn, without its stdin). */
  spawn: unknown;
  startedAt: number;
  incarnation: number;
  restarts: number;
  hibernatedAt: number;
  /** Bytes of linear memory in the snapshot. */
  memoryBytes?: number;
  /** Its bus subscriptions (their slots in the bus of the page that stored it), to open anew after a reload. */
  subscriptions?: Array<{ slot: number; pattern: string }>;
  /** It had a window open: after a reload the window is shown again with its last frame (ADR 0034). */
  window?: boolean;
}

interface SnapshotSchema extends DBSchema {
  processes: { key: number; value: HibernatedRecord };
  /** The snapshot (memory, globals, Asyncify data, clock), apart: listing the processes reads none. */
  snapshots: { key: number; value: { pid: number; snapshot: unknown } };
}

/** Migration N takes the database from version N to N + 1. Append only. */
const MIGRATIONS: Array<(db: IDBPDatabase<SnapshotSchema>) => void> = [
  (db) => {
    db.createObjectStore('processes', { keyPath: 'pid' });
    db.createObjectStore('snapshots', { keyPath: 'pid' });
  },
];

/** The store of hibernated processes. Every failure is a `registry/quota` or `registry/storage` KernelError. */
export class SnapshotStore {
  private constructor(private readonly db: IDBPDatabase<SnapshotSchema>) {}

  /** Opens (and migrates) the store of the registry named `registryName`. */
  static async open(registryName: string): Promise<SnapshotStore> {
    try {
      const db = await openDB<SnapshotSchema>(`${registryName}-hibernated`, MIGRATIONS.length, {
        upgrade(db, oldVersion) {
          for (const step of MIGRATIONS.slice(oldVersion)) step(db);
        },
        blocking() {
          db.close();
        },
      });
      return new SnapshotStore(db);
    } catch (e) {
      throw storageError(e, 'could not open the store of hibernated processes');
    }
  }

  /** Stores (replaces) a process's record and snapshot in one transaction; settles once committed. */
  async put(record: HibernatedRecord, snapshot: unknown): Promise<void> {
    try {
      const tx = this.db.transaction(['processes', 'snapshots'], 'readwrite');
      await Promise.all([tx.objectStore('processes').put(record), tx.objectStore('snapshots').put({ pid: record.pid, snapshot }), tx.done]);
    } catch (e) {
      throw storageError(e, `could not store hibernated process ${record.pid}`);
    }
  }

  /** A process's snapshot as stored (unparsed), if any. */
  async snapshot(pid: number): Promise<unknown> {
    try {
      return (await this.db.get('snapshots', pid))?.snapshot;
    } catch (e) {
      throw storageError(e, `could not read hibernated process ${pid}`);
    }
  }

  /** Every process's record, without the snapshots. */
  async list(): Promise<HibernatedRecord[]> {
    try {
      return await this.db.getAll('processes');
    } catch (e) {
      throw storageError(e, 'could not list hibernated processes');
    }
  }

  async delete(pid: number): Promise<void> {
    try {
      const tx = this.db.transaction(['processes', 'snapshots'], 'readwrite');
      await Promise.all([tx.objectStore('processes').delete(pid), tx.objectStore('snapshots').delete(pid), tx.done]);
    } catch (e) {
      throw storageError(e, `could not drop hibernated process ${pid}`);
    }
  }

  close(): void {
    this.db.close();
  }
}
