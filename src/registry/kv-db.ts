/**
 * The key-value store's IndexedDB database, apart from the registry's own so that neither
 * schema's migrations wait on the other. Each write is one transaction over the entry and its
 * group's totals: a value is stored whole or not at all, and a group's quota is checked against
 * totals no other write can change meanwhile.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { KernelError } from '../common';

/** A stored value: bytes, or text kept as text. */
export type KvValue = Uint8Array | string;

/** One group's totals. */
export interface KvGroupInfo {
  group: string;
  /** Bytes of keys and values, as the quota counts them. */
  bytes: number;
  count: number;
}

interface Entry {
  group: string;
  key: string;
  value: KvValue;
  size: number;
}

interface KvSchema extends DBSchema {
  entries: { key: [string, string]; value: Entry };
  groups: { key: string; value: KvGroupInfo };
}

/** Migration N takes the database from version N to N + 1. Append only. */
const MIGRATIONS: Array<(db: IDBPDatabase<KvSchema>) => void> = [
  (db) => {
    db.createObjectStore('entries', { keyPath: ['group', 'key'] });
    db.createObjectStore('groups', { keyPath: 'group' });
  },
];

const enc = new TextEncoder();

/** Bytes a key and value count for against the quota. */
export function kvSize(key: string, value: KvValue): number {
  return enc.encode(key).length + (typeof value === 'string' ? enc.encode(value).length : value.length);
}

/** Values compare by their bytes (text as UTF-8): a module's bytes match the page's text. */
function sameValue(a: KvValue | undefined, b: KvValue | null): boolean {
  if (a === undefined || b === null) return a === undefined && b === null;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const x = typeof a === 'string' ? enc.encode(a) : a;
  const y = typeof b === 'string' ? enc.encode(b) : b;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The key range of one group's entries: `[group]` sorts before `[group, key]`, and `[group, []]` after. */
function groupRange(group: string): IDBKeyRange {
  return IDBKeyRange.bound([group], [group, []]);
}

/** The store's persistent side. */
export class KvDb {
  private constructor(private readonly db: IDBPDatabase<KvSchema>) {}

  /** Opens (and migrates) database `name`. */
  static async open(name: string): Promise<KvDb> {
    const db = await openDB<KvSchema>(name, MIGRATIONS.length, {
      upgrade(db, from) {
        for (const step of MIGRATIONS.slice(from)) step(db);
      },
      blocking() {
        db.close();
      },
    });
    return new KvDb(db);
  }

  async get(group: string, key: string): Promise<KvValue | undefined> {
    return (await this.db.get('entries', [group, key]))?.value;
  }

  /**
   * Stores `value` under `key`, refused with `kv/quota` when the group would pass `quota` bytes,
   * and with `kv/conflict` when `expect` is given (null: absent) and the stored value differs.
   */
  async set(group: string, key: string, value: KvValue, quota: number, expect?: KvValue | null): Promise<void> {
    const tx = this.db.transaction(['entries', 'groups'], 'readwrite');
    const [old, totals] = await Promise.all([tx.objectStore('entries').get([group, key]), tx.objectStore('groups').get(group)]);
    if (expect !== undefined && !sameValue(old?.value, expect)) {
      tx.abort();
      await tx.done.catch(() => {});
      throw new KernelError('kv/conflict', `"${group}/${key}" does not hold the expected value`, { group, key });
    }
    const size = kvSize(key, value);
    const t = totals ?? { group, bytes: 0, count: 0 };
    const bytes = t.bytes - (old?.size ?? 0) + size;
    if (bytes > quota) {
      tx.abort();
      await tx.done.catch(() => {});
      throw new KernelError('kv/quota', `group "${group}" would hold ${bytes} bytes, over its ${quota}`, { group, bytes, quota });
    }
    void tx.objectStore('entries').put({ group, key, value, size });
    void tx.objectStore('groups').put({ group, bytes, count: t.count + (old === undefined ? 1 : 0) });
    await tx.done;
  }

  /** Removes `key`; true when it was there. */
  async delete(group: string, key: string): Promise<boolean> {
    const tx = this.db.transaction(['entries', 'groups'], 'readwrite');
    const [old, totals] = await Promise.all([tx.objectStore('entries').get([group, key]), tx.objectStore('groups').get(group)]);
    if (old === undefined || totals === undefined) {
      await tx.done;
      return false;
    }
    void tx.objectStore('entries').delete([group, key]);
    if (totals.count <= 1) void tx.objectStore('groups').delete(group);
    else void tx.objectStore('groups').put({ group, bytes: totals.bytes - old.size, count: totals.count - 1 });
    await tx.done;
    return true;
  }

  /** The keys of a group, sorted. */
  async keys(group: string): Promise<string[]> {
    const keys = await this.db.getAllKeys('entries', groupRange(group));
    return keys.map((k) => k[1]);
  }

  /** Every group that holds a key, with its totals. */
  async groups(): Promise<KvGroupInfo[]> {
    return this.db.getAll('groups');
  }

  close(): void {
    this.db.close();
  }
}
