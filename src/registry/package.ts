/**
 * A package zip checked whole before anything is stored: its entries (zip.ts), its `webmk.json`,
 * every module it names (compiled, as a lone module is), and its signature (signature.ts).
 */
import { KernelError, isKernelError, isModuleName, requestedPermissions, type ModuleManifest, type PackageRecord } from '../common';
import { analyse } from './analyse';
import { parseManifest, type Analysed } from './manifest';
import { isRange, isVersion } from './semver';
import { verifyPackage } from './signature';
import { isSafePath, readZip } from './zip';

/** The manifest at the root of every package. */
export const PACKAGE_MANIFEST = 'webmk.json';
/** The optional signature beside it. */
export const PACKAGE_SIGNATURE = 'webmk.sig';
/** At most this many modules in one package. */
export const MAX_MODULES = 64;

/** A module of a package, validated and not yet stored. */
export interface PreparedModule {
  name: string;
  file: string;
  bytes: Uint8Array;
  analysed: Analysed;
}

/** A package that passed every check, ready for one transaction. */
export interface PreparedPackage {
  record: Omit<PackageRecord, 'installedAt' | 'acceptedUntrusted'>;
  modules: PreparedModule[];
}

interface ModuleEntry {
  name: string;
  file: string;
  /** Manifest fields given beside name and file; they override the module's own. */
  fields: Record<string, unknown>;
}

interface PackageManifest {
  name: string;
  version: string;
  description: string;
  modules: ModuleEntry[];
  dependencies: Record<string, string>;
  permissions?: unknown;
}

/** Unpacks and checks a package; rejects with a `registry/*` code saying what is wrong. */
export async function preparePackage(zip: Uint8Array): Promise<PreparedPackage> {
  const files = readZip(zip);
  const manifestBytes = files.get(PACKAGE_MANIFEST);
  if (manifestBytes === undefined) throw missing(PACKAGE_MANIFEST);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes);
  } catch {
    throw invalid(`${PACKAGE_MANIFEST} is not UTF-8 text`);
  }
  const manifest = parsePackageManifest(text);
  for (const m of manifest.modules) if (!files.has(m.file)) throw missing(m.file, m.name);
  const modules: PreparedModule[] = [];
  for (const entry of manifest.modules) {
    const bytes = files.get(entry.file) as Uint8Array;
    modules.push({ name: entry.name, file: entry.file, bytes, analysed: await analyseEntry(bytes, entry, manifest) });
  }
  const signed = await verifyPackage(files, [PACKAGE_MANIFEST, ...manifest.modules.map((m) => m.file)], files.get(PACKAGE_SIGNATURE));
  return {
    record: {
      name: manifest.name,
      version: manifest.version,
      description: manifest.description,
      format: 'zip',
      modules: manifest.modules.map((m) => m.name),
      dependencies: manifest.dependencies,
      publisher: signed.publisher,
      manifestSha256: signed.manifestSha256,
      manifestText: text,
      ...(files.has(PACKAGE_SIGNATURE) ? { signatureText: new TextDecoder().decode(files.get(PACKAGE_SIGNATURE)) } : {}),
    },
    modules,
  };
}

/** Compiles one module and lays the package's word over its own manifest. */
async function analyseEntry(bytes: Uint8Array, entry: ModuleEntry, pkg: PackageManifest): Promise<Analysed> {
  let analysed: Analysed;
  try {
    analysed = await analyse(bytes, entry.file);
  } catch (e) {
    if (isKernelError(e)) throw new KernelError(e.code, `module "${entry.name}" (${entry.file}): ${e.message}`, { ...e.details, module: entry.name, file: entry.file });
    throw e;
  }
  const merged: ModuleManifest = parseManifest(
    JSON.stringify({
      ...analysed.manifest,
      ...(pkg.permissions !== undefined && analysed.manifest.permissions === undefined ? { permissions: pkg.permissions } : {}),
      version: pkg.version,
      ...entry.fields,
      name: entry.name,
    }),
    `${PACKAGE_MANIFEST} (module "${entry.name}")`,
  );
  return {
    ...analysed,
    manifest: merged,
    info: {
      ...analysed.info,
      version: typeof merged.version === 'string' ? merged.version : pkg.version,
      description: typeof merged.description === 'string' ? merged.description : analysed.info.description,
      manifest: merged,
      requested: requestedPermissions(merged, analysed.info.imports),
    },
  };
}

/** `webmk.json` checked field by field. */
export function parsePackageManifest(text: string): PackageManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid(`${PACKAGE_MANIFEST} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) throw invalid(`${PACKAGE_MANIFEST} must hold a JSON object`);
  const { name, version, description, modules, dependencies, permissions } = parsed;
  if (typeof name !== 'string' || !isModuleName(name)) throw invalid('"name" must be a name: letters, digits, ".", "_", "-", at most 64');
  if (typeof version !== 'string' || !isVersion(version)) throw invalid('"version" must be a semantic version such as 1.2.0');
  if (description !== undefined && typeof description !== 'string') throw invalid('"description" must be a string');
  if (!Array.isArray(modules) || modules.length === 0) throw invalid('"modules" must be a list of at least one module');
  if (modules.length > MAX_MODULES) throw invalid(`"modules" lists ${modules.length} modules; at most ${MAX_MODULES}`);
  const entries = modules.map((m: unknown, i) => moduleEntry(m, i));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new KernelError('registry/duplicate-name', `the package names module "${e.name}" twice`, { module: e.name });
    seen.add(e.name);
  }
  return {
    name,
    version,
    description: description ?? '',
    modules: entries,
    dependencies: parseDependencies(dependencies),
    ...(permissions !== undefined ? { permissions } : {}),
  };
}

function moduleEntry(m: unknown, i: number): ModuleEntry {
  if (!isObject(m)) throw invalid(`modules[${i}] must be an object`);
  const { name, file, ...fields } = m;
  if (typeof name !== 'string' || !isModuleName(name)) throw invalid(`modules[${i}].name must be a module name`);
  if (typeof file !== 'string') throw invalid(`modules[${i}].file must be a path`);
  if (!isSafePath(file) || file.endsWith('/')) {
    throw new KernelError('registry/unsafe-path', `module "${name}" names an unsafe path: ${JSON.stringify(file)}`, { module: name, path: file });
  }
  return { name, file, fields };
}

function parseDependencies(d: unknown): Record<string, string> {
  if (d === undefined) return {};
  if (!isObject(d)) throw invalid('"dependencies" must be an object of package names to version ranges');
  const out: Record<string, string> = {};
  for (const [name, range] of Object.entries(d)) {
    if (!isModuleName(name)) throw invalid(`dependency "${name}" is not a package name`);
    if (typeof range !== 'string' || !isRange(range)) throw invalid(`dependency "${name}" needs a version range such as ^1.0.0`);
    out[name] = range;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string): KernelError {
  return new KernelError('registry/invalid-manifest', message);
}

function missing(path: string, module?: string): KernelError {
  const what = module !== undefined ? `module "${module}" names ${path}, which` : `${path}`;
  return new KernelError('registry/missing-file', `${what} is not in the package`, { path, ...(module !== undefined ? { module } : {}) });
}
