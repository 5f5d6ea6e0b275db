/** Packages made in the test with fflate and the project's own scripts, and the registry's state as the page sees it. */
import { strToU8 } from 'fflate';
import type { Page } from 'playwright-core';
import { generateKey, signZip, zipEntries } from '../../scripts/package-tools.mjs';
import { moduleBytes } from './harness';

export interface PackageSpec {
  name?: string;
  version?: string;
  description?: string;
  /** Module name to the built module (public/modules) or fixture it holds; the file is `<module>.wasm`. */
  modules: Record<string, string>;
  dependencies?: Record<string, string>;
  permissions?: unknown;
}

/** A package's files: webmk.json first, then each module's bytes. */
export function packageFiles(spec: PackageSpec): Record<string, Uint8Array> {
  const manifest = {
    name: spec.name ?? 'pkg',
    version: spec.version ?? '1.0.0',
    description: spec.description ?? 'a test package',
    modules: Object.keys(spec.modules).map((name) => ({ name, file: `${name}.wasm` })),
    ...(spec.dependencies !== undefined ? { dependencies: spec.dependencies } : {}),
    ...(spec.permissions !== undefined ? { permissions: spec.permissions } : {}),
  };
  const files: Record<string, Uint8Array> = { 'webmk.json': strToU8(JSON.stringify(manifest, null, 2)) };
  for (const [name, built] of Object.entries(spec.modules)) files[`${name}.wasm`] = new Uint8Array(moduleBytes(built));
  return files;
}

/** The zip of a package, signed by `key` when given. */
export function makePackage(spec: PackageSpec, key?: TestKey): number[] {
  const zip = zipEntries(packageFiles(spec));
  return [...(key !== undefined ? signZip(zip, key.privateKeyPem) : zip)];
}

export interface TestKey {
  privateKeyPem: string;
  publicKey: string;
}

export function newKey(): TestKey {
  return generateKey();
}

/** `kernel.install(bytes, opts)` in the page: the modules' names, or the rejection's code and details. */
export function tryInstall(page: Page, bytes: number[], opts: Record<string, unknown> = {}): Promise<{ names?: string[]; code?: string; details?: Record<string, unknown> }> {
  return page.evaluate(
    async ([b, o]) =>
      window.kernel.install(new Uint8Array(b), o).then(
        (r) => ({ names: (Array.isArray(r) ? r : [r]).map((m) => m.name) }),
        (e: { code: string; details: Record<string, unknown> }) => ({ code: e.code, details: JSON.parse(JSON.stringify(e.details)) as Record<string, unknown> }),
      ),
    [bytes, opts] as const,
  );
}

/** What the registry holds: modules (name, package, sha256), packages (without per-process status), blob count. */
export async function registryState(page: Page): Promise<unknown> {
  return page.evaluate(async () => {
    const modules = (await window.kernel.modules()).map((m) => `${m.name}@${m.package}:${m.sha256}`).sort();
    const packages = (await window.kernel.packages()).map((p) => ({ ...p, modules: p.modules.map((m) => `${m.name}:${m.sha256}`) }));
    const blobs = await new Promise<number>((ok, fail) => {
      const req = indexedDB.open('webmk');
      req.onsuccess = () => {
        const c = req.result.transaction('blobs').objectStore('blobs').count();
        c.onsuccess = () => {
          ok(c.result);
          req.result.close();
        };
        c.onerror = () => fail(c.error);
      };
      req.onerror = () => fail(req.error);
    });
    return { modules, packages, blobs };
  });
}
