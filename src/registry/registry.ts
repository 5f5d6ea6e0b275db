/**
 * The module registry: modules and their bytes in IndexedDB. Every change is one transaction:
 * a module is installed whole or not at all, and a failed install leaves the registry as it was.
 */
import { KernelError, grantsFrom, type Grants, type ModuleConfig, type ModuleInfo } from '../common';
import { analyse, chooseName } from './analyse';
import type { IDBPTransaction } from 'idb';
import { openRegistryDb, type RegistryDb, type RegistrySchema } from './db';

/** What `install` is given besides the bytes. */
export interface InstallRequest {
  name?: string;
  /** The file name it came from, if any (the default module name). */
  fileName?: string;
  /** What to grant of what the manifest asks (nothing by default). */
  grant?: 'all' | readonly string[];
}

/** An installed module with its compiled form (compiling is validation). */
export interface Installed {
  info: ModuleInfo;
  /** The compiled module (absent for a JS module). */
  module?: WebAssembly.Module;
}

export class Registry {
  private constructor(private readonly db: RegistryDb) {}

  /** Opens the registry stored under `dbName`. */
  static async open(dbName = 'webmk'): Promise<Registry> {
    let db: RegistryDb;
    try {
      db = await openRegistryDb(dbName);
    } catch (e) {
      throw storageError(e, 'could not open the registry database');
    }
    // Best effort: ask that the registry survive storage pressure.
    void navigator.storage?.persist?.().catch(() => false);
    return new Registry(db);
  }

  /**
   * Validates and stores a module; replaces a module of the same name, keeping its configuration
   * (grants start over: what the new bytes ask for may differ).
   */
  async install(bytes: Uint8Array, req: InstallRequest = {}): Promise<Installed> {
    const analysed = await analyse(bytes, req.fileName);
    const name = chooseName(req.name, analysed.manifest, req.fileName);
    const sha256 = await digest(bytes);
    const info: ModuleInfo = {
      name,
      sha256,
      installedAt: Date.now(),
      ...(req.fileName !== undefined ? { source: req.fileName } : {}),
      ...analysed.info,
      grants: grantsFrom(analysed.info.requested, req.grant),
      config: {},
    };
    const tx = this.db.transaction(['modules', 'blobs'], 'readwrite');
    const work = (async () => {
      const modules = tx.objectStore('modules');
      const blobs = tx.objectStore('blobs');
      const previous = await modules.get(name);
      if (previous !== undefined) info.config = previous.config;
      if ((await blobs.getKey(sha256)) === undefined) {
        await blobs.put({ sha256, bytes: bytes.slice().buffer as ArrayBuffer });
      }
      await modules.put(info);
      if (previous !== undefined && previous.sha256 !== sha256) {
        const users = await modules.index('by-sha256').count(previous.sha256);
        if (users === 0) await blobs.delete(previous.sha256);
      }
    })();
    await settle(tx, work, `could not store module "${name}"`);
    return analysed.module !== undefined ? { info, module: analysed.module } : { info };
  }

  /** Removes a module (its configuration with it), and its bytes unless another module has the same. */
  async uninstall(name: string): Promise<void> {
    const tx = this.db.transaction(['modules', 'blobs'], 'readwrite');
    const work = (async () => {
      const modules = tx.objectStore('modules');
      const info = await modules.get(name);
      if (info === undefined) throw new KernelError('registry/not-found', `no module named "${name}"`, { name });
      await modules.delete(name);
      if ((await modules.index('by-sha256').count(info.sha256)) === 0) await tx.objectStore('blobs').delete(info.sha256);
    })();
    await settle(tx, work, `could not uninstall "${name}"`);
  }

  /** Replaces what a module is granted (to revoke, grant less). */
  async setGrants(name: string, grants: Grants): Promise<ModuleInfo> {
    return this.update(name, (info) => ({ ...info, grants }), `could not change the grants of "${name}"`);
  }

  /** Rewrites one module's record in one transaction; `registry/not-found` if there is none. */
  private async update(name: string, change: (info: ModuleInfo) => ModuleInfo, what: string): Promise<ModuleInfo> {
    const tx = this.db.transaction(['modules', 'blobs'], 'readwrite');
    let updated: ModuleInfo | undefined;
    const work = (async () => {
      const modules = tx.objectStore('modules');
      const info = await modules.get(name);
      if (info === undefined) throw new KernelError('registry/not-found', `no module named "${name}"`, { name });
      updated = change(info);
      await modules.put(updated);
    })();
    await settle(tx, work, what);
    return updated as ModuleInfo;
  }

  /** Replaces a module's configuration (checked by the caller). */
  async setConfig(name: string, config: ModuleConfig): Promise<ModuleInfo> {
    return this.update(name, (info) => ({ ...info, config }), `could not store the configuration of "${name}"`);
  }

  /** Every module, by name. */
  async list(): Promise<ModuleInfo[]> {
    return this.db.getAll('modules');
  }

  async get(name: string): Promise<ModuleInfo | undefined> {
    return this.db.get('modules', name);
  }

  /** The stored bytes of a module's content hash. */
  async bytes(sha256: string): Promise<Uint8Array> {
    const blob = await this.db.get('blobs', sha256);
    if (blob === undefined) throw new KernelError('registry/not-found', `no stored bytes for ${sha256}`, { sha256 });
    return new Uint8Array(blob.bytes);
  }

  /** Content hashes stored (to check nothing is orphaned). */
  async blobKeys(): Promise<string[]> {
    return this.db.getAllKeys('blobs');
  }

  close(): void {
    this.db.close();
  }
}

async function digest(bytes: Uint8Array): Promise<string> {
  const hash = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Waits for a transaction's work and its commit. Any failure aborts the whole transaction (so
 * nothing is half-written) and becomes one KernelError; the commit's own error (a full disk is
 * reported at commit) wins over the AbortError the requests see.
 */
async function settle(tx: IDBPTransaction<RegistrySchema, ['modules', 'blobs'], 'readwrite'>, work: Promise<void>, what: string): Promise<void> {
  const [w, d] = await Promise.allSettled([
    work.catch((e: unknown) => {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      throw e;
    }),
    tx.done,
  ]);
  if (w.status === 'rejected' && w.reason instanceof KernelError) throw w.reason;
  if (d.status === 'rejected') throw storageError(tx.error ?? d.reason, what);
  if (w.status === 'rejected') throw storageError(w.reason, what);
}

function storageError(e: unknown, what: string): KernelError {
  if (e instanceof KernelError) return e;
  const name = e instanceof DOMException ? e.name : '';
  const message = e instanceof Error ? e.message : String(e);
  if (name === 'QuotaExceededError') {
    return new KernelError('registry/quota', `${what}: the browser's storage for this app is full`, { cause: message });
  }
  return new KernelError('registry/storage', `${what}: ${message}`, { cause: message, name });
}
