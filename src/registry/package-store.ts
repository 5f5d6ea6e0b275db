/** What a package transaction checks and tidies: dependencies, dependents, bytes no module uses. */
import type { IDBPTransaction } from 'idb';
import { KernelError, type ModuleInfo, type PackageRecord } from '../common';
import type { RegistrySchema } from './db';
import { satisfies } from './semver';

/** A read-write transaction over every store. */
export type WriteTx = IDBPTransaction<RegistrySchema, Array<'modules' | 'blobs' | 'packages' | 'keys'>, 'readwrite'>;

/** The version of an installed package, a module stored before packages existed counting as one. */
async function installedVersion(tx: WriteTx, name: string): Promise<string | undefined> {
  const pkg = await tx.objectStore('packages').get(name);
  if (pkg !== undefined) return pkg.version;
  const m = await tx.objectStore('modules').get(name);
  return m !== undefined && m.package === name ? m.version : undefined;
}

/** Refuses (`registry/missing-dependency`, with everything needed) unless every dependency is installed in range. */
export async function checkDependencies(tx: WriteTx, self: string, deps: Record<string, string>): Promise<void> {
  const needed: Array<{ name: string; range: string; installed: string | null }> = [];
  for (const [name, range] of Object.entries(deps)) {
    const installed = name === self ? undefined : await installedVersion(tx, name);
    if (installed === undefined || !satisfies(installed, range)) needed.push({ name, range, installed: installed ?? null });
  }
  if (needed.length > 0) {
    const list = needed.map((n) => `${n.name} ${n.range}${n.installed !== null ? ` (installed: ${n.installed})` : ''}`).join(', ');
    throw new KernelError('registry/missing-dependency', `package "${self}" needs ${list}`, { package: self, needed });
  }
}

/** Installed packages whose dependencies name `name`. */
export async function dependentsOf(tx: WriteTx, name: string): Promise<string[]> {
  return (await tx.objectStore('packages').getAll()).filter((p) => p.name !== name && name in p.dependencies).map((p) => p.name).sort();
}

/** Deletes the blobs among `hashes` that no module uses any more, but those a running process uses (`keep`). */
export async function dropOrphanBlobs(tx: WriteTx, hashes: readonly string[], keep?: ReadonlySet<string>): Promise<void> {
  let instrumented: Set<string> | undefined;
  for (const h of new Set(hashes)) {
    if (keep?.has(h) === true) continue;
    if ((await tx.objectStore('modules').index('by-sha256').count(h)) > 0) continue;
    // Instrumented bytes (a migratable module's) are kept by the record that names them.
    instrumented ??= new Set((await tx.objectStore('modules').getAll()).flatMap((m) => (m.migratable !== undefined ? [m.migratable.sha256] : [])));
    if (!instrumented.has(h)) await tx.objectStore('blobs').delete(h);
  }
}

/** The blobs a module's record holds: its bytes, and its instrumented bytes if it is migratable. */
export function blobsOf(m: ModuleInfo): string[] {
  return m.migratable !== undefined ? [m.sha256, m.migratable.sha256] : [m.sha256];
}

/** Package records, with a record made up for modules whose package has none (stored before packages existed). */
export function packageRecords(stored: PackageRecord[], modules: ModuleInfo[]): PackageRecord[] {
  const out = new Map(stored.map((p) => [p.name, p]));
  for (const m of modules) {
    if (out.has(m.package)) continue;
    out.set(m.package, {
      name: m.package,
      version: m.version,
      description: m.description,
      format: 'module',
      modules: modules.filter((x) => x.package === m.package).map((x) => x.name),
      dependencies: {},
      publisher: null,
      installedAt: m.installedAt,
      acceptedUntrusted: false,
    });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Refuses (`registry/has-dependents`) a new version of `name` outside the range an installed
 * package depends on, unless `force`.
 */
export async function checkDependents(tx: WriteTx, name: string, version: string, force: boolean): Promise<void> {
  const broken = (await tx.objectStore('packages').getAll())
    .filter((p) => p.name !== name && p.dependencies[name] !== undefined && !satisfies(version, p.dependencies[name] as string))
    .map((p) => ({ name: p.name, range: p.dependencies[name] as string }));
  if (broken.length > 0 && !force) {
    const list = broken.map((b) => `${b.name} (needs ${b.range})`).join(', ');
    throw new KernelError('registry/has-dependents', `${name} ${version} would break ${list}`, { package: name, dependents: broken.map((b) => b.name), needs: broken });
  }
}
