/**
 * The kernel's side of the registry: installs, removals, grants and configurations, the module
 * records a spawn looks up (cached, so a spawn does not wait for IndexedDB), and the compiled
 * modules it runs. Every change is announced here and to the app's other tabs.
 */
import { openBroadcast, type Broadcast } from '../bus';
import { KernelError, checkModuleConfig, grantsFrom, type ModuleInfo, type PackageRecord, type TrustedKey } from '../common';
import { instrumentAsyncify } from '../hosts';
import { Registry, hasWasmMagic } from '../registry';
import { extismPackage, isExtismManifest, type ExtismManifest } from './extism-manifest';
import { fetchSource } from './fetch-source';
import { RunnableCache, type Runnable } from './runnable';
import type { InstallOptions } from './types';

const REGISTRY_CHANGED = 'registry-changed';

/** Installed modules and their runnable forms. */
export class ModuleCatalog {
  /** Resolves once the registry is open; rejects if it cannot be. */
  readonly ready: Promise<void>;
  private registry: Registry | undefined;
  private broadcast: Broadcast | undefined;
  private records: Promise<Map<string, ModuleInfo>> | null = null;
  private readonly runnables: RunnableCache;
  /** Rewrites a lone wasm module's bytes before they are stored (the kernel's transforms). */
  transform: (bytes: Uint8Array, name: string | undefined) => Promise<Uint8Array> = (b) => Promise.resolve(b);
  /** Live incarnations per module hash: bytes in use stay stored until the last one ends. */
  private readonly uses = new Map<string, number>();

  /** `onChange` runs after every change, made here or in another tab. */
  constructor(dbName: string, maxPages: number, private readonly onChange: () => void) {
    this.runnables = new RunnableCache(maxPages);
    this.ready = this.open(dbName);
  }

  private async open(dbName: string): Promise<void> {
    this.registry = await Registry.open(dbName);
    this.broadcast = openBroadcast('registry', (data) => {
      if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === REGISTRY_CHANGED) {
        this.records = null;
        this.sweep().catch(() => {});
        this.onChange();
      }
    });
  }

  /** The record of a module by name, from a cache dropped on every change. */
  async lookup(name: string): Promise<ModuleInfo | undefined> {
    if (this.records === null) {
      const registry = await this.reg();
      const loading = registry.list().then((list) => new Map(list.map((m) => [m.name, m])));
      this.records = loading;
      loading.catch(() => {
        if (this.records === loading) this.records = null;
      });
    }
    return (await this.records).get(name);
  }

  /** The module compiled under the memory cap, compiling its bytes on first use. */
  async runnable(info: ModuleInfo): Promise<Runnable> {
    // A migratable module runs its instrumented bytes (ADR 0019).
    const sha256 = info.migratable?.sha256 ?? info.sha256;
    return this.runnables.get(sha256, info.kind, async () => (await this.reg()).bytes(sha256));
  }

  /** See `Kernel.install`: a module's record, or for a package (a zip) its modules' records. */
  async install(source: Uint8Array | Blob | File | string | ExtismManifest, opts: InstallOptions): Promise<ModuleInfo | ModuleInfo[]> {
    const registry = await this.reg();
    if (opts === null || typeof opts !== 'object') throw new KernelError('kernel/bad-argument', 'options must be an object');
    if (isExtismManifest(source)) {
      // Its files become a package (ADR 0035): never signed, like a lone module given by the page.
      if (opts.name !== undefined && typeof opts.name !== 'string') throw new KernelError('kernel/bad-argument', 'name must be a string');
      const { zip } = await extismPackage(source, opts.name, opts.onProgress);
      const { name: _name, ...rest } = opts;
      return this.install(zip, { ...rest, untrusted: true });
    }
    if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new KernelError('kernel/bad-argument', 'onProgress must be a function');
    const read = typeof source === 'string' ? await fetchSource(source, opts.onProgress) : await readSource(source);
    const { fileName } = read;
    const bytes = Registry.isPackage(read.bytes) || !hasWasmMagic(read.bytes) ? read.bytes : await this.transform(read.bytes, typeof opts.name === 'string' ? opts.name : fileName);
    if (opts.name !== undefined && typeof opts.name !== 'string') {
      throw new KernelError('kernel/bad-argument', 'name must be a string');
    }
    if (opts.untrusted !== undefined && typeof opts.untrusted !== 'boolean') {
      throw new KernelError('kernel/bad-argument', 'untrusted must be a boolean');
    }
    if (opts.force !== undefined && typeof opts.force !== 'boolean') throw new KernelError('kernel/bad-argument', 'force must be a boolean');
    if (opts.migratable !== undefined && typeof opts.migratable !== 'boolean') throw new KernelError('kernel/bad-argument', 'migratable must be a boolean');
    const grant = checkGrant(opts.grant);
    const req = {
      ...(grant !== undefined ? { grant } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(fileName !== undefined ? { fileName } : {}),
      ...(opts.untrusted !== undefined ? { untrusted: opts.untrusted } : {}),
      ...(opts.force !== undefined ? { force: opts.force } : {}),
      keep: this.inUse(),
    };
    const packaged = Registry.isPackage(bytes);
    if (packaged && opts.name !== undefined) throw new KernelError('kernel/bad-argument', 'a package names its modules itself: name is for a lone module');
    const installed = packaged ? await registry.installPackage(bytes, req) : [await registry.install(bytes, req)];
    for (const { info, bytes: b, module } of installed) this.runnables.remember(info.sha256, b, module);
    // A module replaced under the same name leaves its old code behind.
    await this.sweep();
    this.changed();
    const infos: ModuleInfo[] = [];
    for (const { info } of installed) {
      const wanted = opts.migratable ?? (info.kind === 'wasm' && info.manifest.migratable === true);
      infos.push(wanted ? await this.setMigratable(info.name, true) : info);
    }
    return packaged ? infos : (infos[0] as ModuleInfo);
  }

  /** See `Kernel.uninstall`: the names of the modules removed. */
  async uninstall(name: string, opts: { force?: boolean } = {}): Promise<string[]> {
    const registry = await this.reg();
    if (typeof name !== 'string') throw new KernelError('kernel/bad-argument', 'the name must be a string');
    if (opts === null || typeof opts !== 'object' || (opts.force !== undefined && typeof opts.force !== 'boolean')) {
      throw new KernelError('kernel/bad-argument', 'options are { force?: boolean }');
    }
    const removed = await registry.uninstall(name, { ...opts, keep: this.inUse() });
    await this.sweep();
    this.changed();
    return removed;
  }

  /** See `Kernel.exportPackage`. */
  async exportPackage(name: unknown): Promise<Uint8Array> {
    if (typeof name !== 'string') throw new KernelError('kernel/bad-argument', 'the name must be a string');
    return (await this.reg()).exportPackage(name);
  }

  /** Every package as stored (statuses are the kernel's to add). */
  async packages(): Promise<PackageRecord[]> {
    return (await this.reg()).packages();
  }

  /** See `Kernel.trust.add`. */
  async trustKey(key: unknown, label?: unknown): Promise<TrustedKey> {
    if (label !== undefined && typeof label !== 'string') throw new KernelError('kernel/bad-argument', 'the label must be a string');
    const record = await (await this.reg()).trustKey(key, label);
    this.changed();
    return record;
  }

  /** See `Kernel.trust.list`. */
  async trustedKeys(): Promise<TrustedKey[]> {
    return (await this.reg()).trustedKeys();
  }

  /** See `Kernel.trust.remove`. */
  async distrustKey(key: unknown): Promise<void> {
    await (await this.reg()).distrustKey(key);
    this.changed();
  }

  /** See `Kernel.grant`. */
  async grant(name: string, permissions: 'all' | string[]): Promise<ModuleInfo> {
    const registry = await this.reg();
    const given = checkGrant(permissions) ?? [];
    const info = await registry.get(name);
    if (info === undefined) throw new KernelError('registry/not-found', `no module named "${name}"`, { name });
    const updated = await registry.setGrants(name, grantsFrom(info.requested, given));
    this.changed();
    return updated;
  }

  /** See `Kernel.configure`. */
  async configure(name: unknown, config: unknown): Promise<ModuleInfo> {
    const registry = await this.reg();
    if (typeof name !== 'string') throw new KernelError('kernel/bad-argument', 'the module name must be a string');
    const checked = checkModuleConfig(config);
    if (typeof checked === 'string') throw new KernelError('kernel/bad-argument', checked, { name });
    const updated = await registry.setConfig(name, checked);
    this.changed();
    return updated;
  }

  /**
   * See `Kernel.setMigratable`: instruments the module's bytes (in a worker, off the page's
   * thread) and stores them beside its own, or drops them.
   */
  async setMigratable(name: unknown, on: unknown): Promise<ModuleInfo> {
    const registry = await this.reg();
    if (typeof name !== 'string') throw new KernelError('kernel/bad-argument', 'the module name must be a string');
    if (typeof on !== 'boolean') throw new KernelError('kernel/bad-argument', 'migratable must be a boolean', { name });
    const info = await registry.get(name);
    if (info === undefined) throw new KernelError('registry/not-found', `no module named "${name}"`, { name });
    if (on && info.migratable !== undefined) return info;
    if (on && info.kind !== 'wasm') throw new KernelError('registry/not-migratable', 'only a WebAssembly module can be made migratable', { name });
    const instrumented = on ? await instrumentAsyncify(await registry.bytes(info.sha256)) : null;
    const updated = await registry.setMigratable(name, info.sha256, instrumented);
    await this.sweep();
    this.changed();
    return updated;
  }

  /** Every installed module, by name. */
  async list(): Promise<ModuleInfo[]> {
    return (await this.reg()).list();
  }

  /** Compiled modules held (for leak checks): those of installed modules, at most. */
  resources(): { compiled: number } {
    return { compiled: this.runnables.size };
  }

  /** An incarnation starts running the module with this hash. */
  take(sha256: string): void {
    this.uses.set(sha256, (this.uses.get(sha256) ?? 0) + 1);
  }

  /** An incarnation of it ended: the last one of bytes no module has any more drops them. */
  drop(sha256: string): void {
    const n = (this.uses.get(sha256) ?? 1) - 1;
    if (n > 0) {
      this.uses.set(sha256, n);
      return;
    }
    this.uses.delete(sha256);
    void this.reg()
      .then((r) => r.dropUnused([sha256], this.inUse()))
      .then(() => this.sweep())
      .catch(() => {}); // kept until a later install or uninstall tidies
  }

  /** The hashes live incarnations run (kept stored and compiled whatever is installed). */
  private inUse(): Set<string> {
    return new Set(this.uses.keys());
  }

  /** Lets go of the compiled code of modules no longer installed (here or by another tab) nor running. */
  private async sweep(): Promise<void> {
    const installed = new Set((await (await this.reg()).list()).flatMap((m) => (m.migratable !== undefined ? [m.sha256, m.migratable.sha256] : [m.sha256])));
    for (const h of this.uses.keys()) installed.add(h);
    this.runnables.keepOnly(installed);
  }

  /** Stops listening to other tabs and closes the registry. */
  close(): void {
    this.broadcast?.close();
    this.registry?.close();
  }

  private async reg(): Promise<Registry> {
    await this.ready;
    if (this.registry === undefined) throw new KernelError('kernel/not-ready', 'the kernel is not ready');
    return this.registry;
  }

  private changed(): void {
    this.records = null;
    this.broadcast?.post({ type: REGISTRY_CHANGED });
    this.onChange();
  }
}

function checkGrant(g: unknown): 'all' | string[] | undefined {
  if (g === undefined || g === 'all') return g;
  if (Array.isArray(g) && g.every((x) => typeof x === 'string')) return g;
  throw new KernelError('kernel/bad-argument', "grant must be 'all' or a list of permissions");
}

async function readSource(source: unknown): Promise<{ bytes: Uint8Array; fileName?: string }> {
  if (source instanceof Uint8Array) return { bytes: source };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source) };
  if (source instanceof Blob) {
    const bytes = new Uint8Array(await source.arrayBuffer());
    return source instanceof File ? { bytes, fileName: source.name } : { bytes };
  }
  throw new KernelError('kernel/bad-argument', 'install takes a Uint8Array, a Blob, a File or a URL');
}
