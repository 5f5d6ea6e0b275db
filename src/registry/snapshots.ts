/**
 * Hibernated processes (ADR 0019): each one's snapshot and what it was started with, in a
 * database of their own beside the registry's (`<name>-hibernated`), so they survive a reload
 * and the registry's schema stays as it is. Records are plain data; the kernel parses them.
 *
 * Pids are a kernel's own, and every tab of the app runs a kernel on the same database: each
 * record belongs to the kernel that stored it (its owner, a random id held as a Web Lock for the
 * kernel's life), and a kernel sees only its own. A kernel that starts takes over the records of
 * owners whose lock is free (closed or reloaded pages), under that lock, so two starting tabs
 * never both bring back one process (ADR 0037).
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
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

/** A record as kept: whose it is, and its key (owner and pid). */
type Owned = HibernatedRecord & { owner: string; key: string };

interface SnapshotSchema extends DBSchema {
  /** Version 1's stores (one kernel's pids for all tabs), moved into `records` and `images` by version 2. */
  processes: { key: number; value: HibernatedRecord };
  snapshots: { key: number; value: { pid: number; snapshot: unknown } };
  records: { key: string; value: Owned };
  /** The snapshot (memory, globals, Asyncify data, clock), apart: listing the processes reads none. */
  images: { key: string; value: { key: string; snapshot: unknown } };
}

const keyOf = (owner: string, pid: number): string => `${owner}/${pid}`;
const ownerLock = (registryName: string, owner: string): string => `webmk-hibernated/${registryName}/${owner}`;
/** The owner of records stored before owners existed: no kernel holds its lock. */
const LEGACY_OWNER = '';

type Upgrade = (db: IDBPDatabase<SnapshotSchema>, tx: IDBPTransaction<SnapshotSchema, StoreNames<SnapshotSchema>[], 'versionchange'>) => void;

/** Migration N takes the database from version N to N + 1. Append only. */
const MIGRATIONS: Upgrade[] = [
  (db) => {
    db.createObjectStore('processes', { keyPath: 'pid' });
    db.createObjectStore('snapshots', { keyPath: 'pid' });
  },
  (db, tx) => {
    const records = tx.db.createObjectStore('records', { keyPath: 'key' });
    const images = tx.db.createObjectStore('images', { keyPath: 'key' });
    // What an older version stored is nobody's now: the first kernel to start takes it over.
    void tx
      .objectStore('processes')
      .getAll()
      .then(async (old) => {
        for (const r of old) await records.put({ ...r, owner: LEGACY_OWNER, key: keyOf(LEGACY_OWNER, r.pid) });
        for (const s of await tx.objectStore('snapshots').getAll()) await images.put({ key: keyOf(LEGACY_OWNER, s.pid), snapshot: s.snapshot });
        db.deleteObjectStore('processes');
        db.deleteObjectStore('snapshots');
      });
  },
];

/** The store of one kernel's hibernated processes. Every failure is a `registry/quota` or `registry/storage` KernelError. */
export class SnapshotStore {
  private constructor(
    private readonly db: IDBPDatabase<SnapshotSchema>,
    private readonly registryName: string,
    private readonly owner: string,
    private readonly release: () => void,
  ) {}

  /**
   * Opens (and migrates) the store of the registry named `registryName` for a kernel; resolves
   * once that kernel holds its owner lock (so whatever it stores is known to be alive).
   */
  static async open(registryName: string): Promise<SnapshotStore> {
    const { owner, release } = await takeOwnership(registryName);
    try {
      const db = await openDB<SnapshotSchema>(`${registryName}-hibernated`, MIGRATIONS.length, {
        upgrade(db, oldVersion, _newVersion, tx) {
          for (const step of MIGRATIONS.slice(oldVersion)) step(db, tx);
        },
        blocking() {
          db.close();
        },
      });
      return new SnapshotStore(db, registryName, owner, release);
    } catch (e) {
      release();
      throw storageError(e, 'could not open the store of hibernated processes');
    }
  }

  /** Stores (replaces) a process's record and snapshot in one transaction; settles once committed. */
  async put(record: HibernatedRecord, snapshot: unknown): Promise<void> {
    const key = keyOf(this.owner, record.pid);
    try {
      const tx = this.db.transaction(['records', 'images'], 'readwrite');
      await Promise.all([tx.objectStore('records').put({ ...record, owner: this.owner, key }), tx.objectStore('images').put({ key, snapshot }), tx.done]);
    } catch (e) {
      throw storageError(e, `could not store hibernated process ${record.pid}`);
    }
  }

  /** A process's snapshot as stored (unparsed), if any. */
  async snapshot(pid: number): Promise<unknown> {
    try {
      return (await this.db.get('images', keyOf(this.owner, pid)))?.snapshot;
    } catch (e) {
      throw storageError(e, `could not read hibernated process ${pid}`);
    }
  }

  /** This kernel's records, without the snapshots. */
  async list(): Promise<HibernatedRecord[]> {
    try {
      const mine = await this.db.getAll('records', IDBKeyRange.bound(`${this.owner}/`, `${this.owner}/\uffff`));
      return mine.map(({ owner: _owner, key: _key, ...r }) => r);
    } catch (e) {
      throw storageError(e, 'could not list hibernated processes');
    }
  }

  /**
   * Takes over the records of every owner whose kernel is gone (its lock free), each owner's in
   * one transaction under its lock. A pid this kernel already has stored is given the next free
   * one. Resolves with how many records were taken over.
   */
  async claim(): Promise<number> {
    let owners: Set<string>;
    try {
      owners = new Set((await this.db.getAll('records')).map((r) => r.owner).filter((o) => o !== this.owner));
    } catch (e) {
      throw storageError(e, 'could not list hibernated processes');
    }
    let taken = 0;
    for (const owner of owners) {
      taken += await navigator.locks.request(ownerLock(this.registryName, owner), { ifAvailable: true }, async (lock) => (lock === null ? 0 : this.takeOver(owner)));
    }
    return taken;
  }

  private async takeOver(owner: string): Promise<number> {
    try {
      const tx = this.db.transaction(['records', 'images'], 'readwrite');
      const records = tx.objectStore('records');
      const images = tx.objectStore('images');
      const all = await records.getAll();
      const used = new Set(all.filter((r) => r.owner === this.owner).map((r) => r.pid));
      let next = 1;
      const theirs = all.filter((r) => r.owner === owner);
      for (const r of theirs) {
        while (used.has(next)) next++;
        const pid = used.has(r.pid) ? next : r.pid;
        used.add(pid);
        const image = await images.get(r.key);
        const key = keyOf(this.owner, pid);
        await records.delete(r.key);
        await images.delete(r.key);
        await records.put({ ...r, pid, owner: this.owner, key });
        if (image !== undefined) await images.put({ key, snapshot: image.snapshot });
      }
      await tx.done;
      return theirs.length;
    } catch (e) {
      throw storageError(e, 'could not take over hibernated processes of a closed page');
    }
  }

  async delete(pid: number): Promise<void> {
    const key = keyOf(this.owner, pid);
    try {
      const tx = this.db.transaction(['records', 'images'], 'readwrite');
      await Promise.all([tx.objectStore('records').delete(key), tx.objectStore('images').delete(key), tx.done]);
    } catch (e) {
      throw storageError(e, `could not drop hibernated process ${pid}`);
    }
  }

  /** Closes the database and lets go of the owner lock: what this kernel stored may be taken over. */
  close(): void {
    this.db.close();
    this.release();
  }
}

/** How long a reloaded page waits for the page it replaces to let go of its owner lock. */
const RELOAD_WAIT_MS = 2000;

/**
 * This kernel's owner id, its lock held. A reloaded page keeps the id it had (kept in the tab's
 * session storage), so its processes are its own again at once, with their pids, once the page
 * it replaces has let go; a second kernel of the same page, or a duplicated tab, gets a new one.
 */
async function takeOwnership(registryName: string): Promise<{ owner: string; release: () => void }> {
  const slot = `webmk-hibernated/${registryName}`;
  const kept = session(slot);
  if (kept !== undefined) {
    const release = await tryLock(ownerLock(registryName, kept), reloaded() ? RELOAD_WAIT_MS : 0);
    if (release !== undefined) return { owner: kept, release };
  }
  const owner = randomOwner();
  session(slot, owner);
  const release = await tryLock(ownerLock(registryName, owner), 0);
  if (release === undefined) throw new Error('a fresh owner lock is held');
  return { owner, release };
}

/** Reads (or writes) the tab's session storage; undefined where there is none. */
function session(key: string, value?: string): string | undefined {
  try {
    if (value !== undefined) globalThis.sessionStorage?.setItem(key, value);
    return globalThis.sessionStorage?.getItem(key) ?? undefined;
  } catch {
    return undefined; // an opaque origin, or storage turned off
  }
}

function reloaded(): boolean {
  const nav = globalThis.performance?.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined;
  return nav?.type === 'reload' || nav?.type === 'back_forward';
}

function randomOwner(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Takes a Web Lock (now, or within `waitMs`) and holds it until the returned function is called. */
function tryLock(name: string, waitMs: number): Promise<(() => void) | undefined> {
  return new Promise((done) => {
    const opts: LockOptions = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
    navigator.locks
      .request(name, opts, (lock) => {
        if (lock === null) return done(undefined);
        return new Promise<void>((release) => done(release));
      })
      .catch(() => done(undefined));
  });
}
