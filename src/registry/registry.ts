/**
 * The module registry: packages, their modules and the modules' bytes in IndexedDB, and the
 * publisher keys the person trusts. Every change is one transaction: a module or a package is
 * installed whole or not at all, and a failed install leaves the registry as it was.
 */
import { KernelError, grantsFrom, type Grants, type ModuleConfig, type ModuleInfo, type PackageRecord, type TrustedKey } from '../common';
import { analyse, chooseName } from './analyse';
import { openRegistryDb, type RegistryDb } from './db';
import { preparePackage } from './package';
import { blobsOf, checkDependencies, checkDependents, dependentsOf, dropOrphanBlobs, packageRecords, type WriteTx } from './package-store';
import { canonicalKey } from './signature';
import { digest, settle, storageError } from './tx';
import { isZip, zipPackage } from './zip';

/** What `install` is given besides the bytes. */
export interface InstallRequest {
  name?: string;
  /** The file name it came from, if any (the default module name). */
  fileName?: string;
  /** What to grant of what the manifest asks (nothing by default). */
  grant?: 'all' | readonly string[];
  /** For a package: install it although it is unsigned or signed by a key not trusted. */
  untrusted?: boolean;
  /** For a package: replace it even by a version outside the range an installed package depends on. */
  force?: boolean;
  /** Hashes of bytes running processes use: kept stored even when no module has them any more. */
  keep?: ReadonlySet<string>;
}

/** An installed module with its compiled form (compiling is validation). */
export interface Installed {
  info: ModuleInfo;
  /** The compiled module (absent for a JS module). */
  module?: WebAssembly.Module;
  /** Its bytes (to keep compiled without reading them back). */
  bytes: Uint8Array;
}

const ALL = ['modules', 'blobs', 'packages', 'keys'] as const;

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

  /** True when `bytes` are a package (a zip) rather than a module. */
  static isPackage(bytes: Uint8Array): boolean {
    return isZip(bytes);
  }

  /**
   * Validates and stores a module as a package of one; replaces a module of the same name,
   * keeping its configuration (grants start over: what the new bytes ask for may differ).
   * Refuses (`registry/owned`) a name that belongs to a package of several modules.
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
      package: name,
    };
    const tx = this.db.transaction([...ALL], 'readwrite');
    const work = (async () => {
      const modules = tx.objectStore('modules');
      const previous = await modules.get(name);
      const owner = previous?.package ?? (await tx.objectStore('packages').get(name))?.name;
      if (owner !== undefined && (owner !== name || (await tx.objectStore('packages').get(name))?.format === 'zip')) {
        throw owned(name, owner);
      }
      await checkDependents(tx, name, info.version, req.force === true);
      if (previous !== undefined) info.config = previous.config;
      await putBlob(tx, sha256, bytes);
      await modules.put(info);
      await tx.objectStore('packages').put(lonePackage(info));
      if (previous !== undefined) await dropOrphanBlobs(tx, blobsOf(previous), req.keep);
    })();
    await settle(tx, work, `could not store module "${name}"`);
    return { info, bytes, ...(analysed.module !== undefined ? { module: analysed.module } : {}) };
  }

  /**
   * Validates a package whole (entries, manifest, every module compiled, signature), then stores
   * it with its modules in one transaction: ownership, trust and dependencies are checked there.
   * A package of the same name is replaced (its modules not in the new version are removed).
   */
  async installPackage(zip: Uint8Array, req: InstallRequest = {}): Promise<Installed[]> {
    const prepared = await preparePackage(zip);
    const pkg = prepared.record;
    const now = Date.now();
    const installed: Installed[] = [];
    for (const m of prepared.modules) {
      const info: ModuleInfo = {
        name: m.name,
        sha256: await digest(m.bytes),
        installedAt: now,
        source: m.file,
        ...m.analysed.info,
        grants: grantsFrom(m.analysed.info.requested, req.grant),
        config: {},
        package: pkg.name,
      };
      installed.push({ info, bytes: m.bytes, ...(m.analysed.module !== undefined ? { module: m.analysed.module } : {}) });
    }
    const tx = this.db.transaction([...ALL], 'readwrite');
    const work = (async () => {
      const trusted = pkg.publisher !== null && (await tx.objectStore('keys').get(pkg.publisher)) !== undefined;
      if (!trusted && req.untrusted !== true) {
        throw new KernelError(
          'registry/untrusted',
          pkg.publisher === null
            ? `package "${pkg.name}" is not signed: install it only if you trust where it came from`
            : `package "${pkg.name}" is signed by a key you do not trust`,
          { package: pkg.name, publisher: pkg.publisher },
        );
      }
      const modules = tx.objectStore('modules');
      for (const { info } of installed) {
        const previous = await modules.get(info.name);
        if (previous !== undefined && previous.package !== pkg.name) throw owned(info.name, previous.package);
      }
      const lone = await tx.objectStore('packages').get(pkg.name);
      if (lone === undefined && (await modules.get(pkg.name))?.package === pkg.name && !pkg.modules.includes(pkg.name)) {
        throw owned(pkg.name, pkg.name);
      }
      await checkDependencies(tx, pkg.name, pkg.dependencies);
      await checkDependents(tx, pkg.name, pkg.version, req.force === true);
      const old = (await modules.getAll()).filter((m) => m.package === pkg.name);
      for (const m of old) {
        if (!pkg.modules.includes(m.name)) await modules.delete(m.name);
      }
      for (const { info, bytes } of installed) {
        const previous = old.find((m) => m.name === info.name);
        if (previous !== undefined) info.config = previous.config;
        await putBlob(tx, info.sha256, bytes);
        await modules.put(info);
      }
      await tx.objectStore('packages').put({ ...pkg, installedAt: now, acceptedUntrusted: !trusted });
      await dropOrphanBlobs(tx, old.flatMap(blobsOf), req.keep);
    })();
    await settle(tx, work, `could not store package "${pkg.name}"`);
    return installed;
  }

  /**
   * Removes a package with all its modules (their configurations with them) and the bytes no
   * other module shares. `name` is a module's name (its package goes) or a package's. Refuses
   * (`registry/has-dependents`) while another package depends on it, unless `force`.
   */
  async uninstall(name: string, opts: { force?: boolean; keep?: ReadonlySet<string> } = {}): Promise<string[]> {
    const tx = this.db.transaction([...ALL], 'readwrite');
    const removed: string[] = [];
    const work = (async () => {
      const modules = tx.objectStore('modules');
      const pkgName = (await modules.get(name))?.package ?? (await tx.objectStore('packages').get(name))?.name;
      if (pkgName === undefined) throw new KernelError('registry/not-found', `no module or package named "${name}"`, { name });
      const dependents = await dependentsOf(tx, pkgName);
      if (dependents.length > 0 && opts.force !== true) {
        throw new KernelError('registry/has-dependents', `package "${pkgName}" is needed by ${dependents.join(', ')}`, { package: pkgName, dependents });
      }
      const mine = (await modules.getAll()).filter((m) => m.package === pkgName);
      for (const m of mine) {
        await modules.delete(m.name);
        removed.push(m.name);
      }
      await tx.objectStore('packages').delete(pkgName);
      await dropOrphanBlobs(tx, mine.flatMap(blobsOf), opts.keep);
    })();
    await settle(tx, work, `could not uninstall "${name}"`);
    return removed;
  }

  /** Deletes the stored bytes among `hashes` that no module has and no running process uses (`keep`). */
  async dropUnused(hashes: readonly string[], keep: ReadonlySet<string>): Promise<void> {
    const tx = this.db.transaction([...ALL], 'readwrite');
    await settle(tx, dropOrphanBlobs(tx, hashes, keep), 'could not drop unused module bytes');
  }

  /**
   * A package as a zip: `webmk.json` and `webmk.sig` as installed, each module's bytes under the
   * path it had; a module installed alone gets a `webmk.json` made for it.
   */
  async exportPackage(name: string): Promise<Uint8Array> {
    const record = (await this.packages()).find((p) => p.name === name);
    if (record === undefined) throw new KernelError('registry/not-found', `no package named "${name}"`, { name });
    const modules = (await this.list()).filter((m) => m.package === name);
    const files: Record<string, Uint8Array> = {};
    const entries: Array<{ name: string; file: string }> = [];
    for (const m of record.modules.flatMap((n) => modules.filter((x) => x.name === n))) {
      const file = record.format === 'zip' && m.source !== undefined ? m.source : `${m.name}.${m.kind === 'js' ? 'js' : 'wasm'}`;
      files[file] = await this.bytes(m.sha256);
      entries.push({ name: m.name, file });
    }
    const manifest = record.manifestText ?? `${JSON.stringify({ name, version: record.version, description: record.description, modules: entries }, null, 2)}\n`;
    return zipPackage(manifest, files, record.signatureText);
  }

  /** Every package, a module stored before packages existed shown as a package of one. */
  async packages(): Promise<PackageRecord[]> {
    const tx = this.db.transaction(['modules', 'packages'], 'readonly');
    return packageRecords(await tx.objectStore('packages').getAll(), await tx.objectStore('modules').getAll());
  }

  /** Trusts a publisher key (raw 32 bytes or their base64); `kernel/bad-argument` if malformed. */
  async trustKey(key: unknown, label?: string): Promise<TrustedKey> {
    const publicKey = canonicalKey(key);
    if (publicKey === undefined) throw new KernelError('kernel/bad-argument', 'a key is the raw 32 bytes of an Ed25519 public key, or their base64');
    const record: TrustedKey = { publicKey, addedAt: Date.now(), ...(label !== undefined ? { label } : {}) };
    const tx = this.db.transaction(['keys'], 'readwrite');
    await settle(tx, tx.objectStore('keys').put(record).then(() => {}), 'could not store the key');
    return record;
  }

  /** The keys the person trusts. */
  async trustedKeys(): Promise<TrustedKey[]> {
    return this.db.getAll('keys');
  }

  /** Stops trusting a key; `registry/not-found` if it was not trusted. */
  async distrustKey(key: unknown): Promise<void> {
    const publicKey = canonicalKey(key);
    if (publicKey === undefined) throw new KernelError('kernel/bad-argument', 'a key is the raw 32 bytes of an Ed25519 public key, or their base64');
    const tx = this.db.transaction(['keys'], 'readwrite');
    const work = (async () => {
      if ((await tx.objectStore('keys').getKey(publicKey)) === undefined) throw new KernelError('registry/not-found', 'that key is not trusted', { publicKey });
      await tx.objectStore('keys').delete(publicKey);
    })();
    await settle(tx, work, 'could not remove the key');
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

  /**
   * Stores a module's instrumented bytes beside its own and says so in its record (`null`: it is
   * no longer migratable, and those bytes go). Refuses (`registry/not-found`) a module that is
   * gone, or whose bytes changed meanwhile (`expect`: the hash they were made from).
   */
  async setMigratable(name: string, expect: string, instrumented: Uint8Array | null): Promise<ModuleInfo> {
    const tx = this.db.transaction([...ALL], 'readwrite');
    let updated: ModuleInfo | undefined;
    const work = (async () => {
      const modules = tx.objectStore('modules');
      const info = await modules.get(name);
      if (info === undefined || info.sha256 !== expect) throw new KernelError('registry/not-found', `module "${name}" was removed or replaced meanwhile`, { name });
      const { migratable: before, ...rest } = info;
      if (instrumented === null) {
        updated = rest;
      } else {
        const sha256 = await digest(instrumented);
        await putBlob(tx, sha256, instrumented);
        updated = { ...rest, migratable: { sha256, size: instrumented.byteLength } };
      }
      await modules.put(updated);
      if (before !== undefined && before.sha256 !== updated.migratable?.sha256) await dropOrphanBlobs(tx, [before.sha256]);
    })();
    await settle(tx, work, `could not store the migratable form of "${name}"`);
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

async function putBlob(tx: WriteTx, sha256: string, bytes: Uint8Array): Promise<void> {
  const blobs = tx.objectStore('blobs');
  if ((await blobs.getKey(sha256)) === undefined) await blobs.put({ sha256, bytes: bytes.slice().buffer as ArrayBuffer });
}

function lonePackage(info: ModuleInfo): PackageRecord {
  return {
    name: info.name,
    version: info.version,
    description: info.description,
    format: 'module',
    modules: [info.name],
    dependencies: {},
    publisher: null,
    installedAt: info.installedAt,
    acceptedUntrusted: false,
  };
}

function owned(module: string, owner: string): KernelError {
  return new KernelError('registry/owned', `"${module}" belongs to package "${owner}"; uninstall that package first`, { module, owner });
}
