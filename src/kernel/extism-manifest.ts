/**
 * An Extism manifest given as such (ADR 0035): `{ wasm: [{ data | url, hash?, name? }], config,
 * allowed_hosts, memory, timeout_ms }` becomes a package of its wasm files, installed as any
 * package is: the main entry (named `main`, else the last) is the plugin, named as the caller says
 * (else after its file); each other entry is a module `<plugin>.<name>` the plugin links by
 * `name` (ADR 0026), and the manifest's other fields are the plugin's `service` fields.
 */
import { KernelError, isModuleName } from '../common';
import { fromBase64 } from '../ipc';
import { sha256Hex, zipPackage } from '../registry';
import { fetchSource, type InstallProgress } from './fetch-source';

/** An entry of an Extism manifest's `wasm` list. */
export interface ExtismManifestWasm {
  data?: Uint8Array | string;
  url?: string;
  path?: string;
  hash?: string;
  name?: string;
}

/** An Extism manifest, as Extism's SDKs take it. */
export interface ExtismManifest {
  wasm: ExtismManifestWasm[];
  config?: Record<string, string>;
  allowed_hosts?: string[];
  allowed_paths?: Record<string, string>;
  memory?: { max_pages?: number; max_http_response_bytes?: number; max_var_bytes?: number };
  timeout_ms?: number;
}

/** Extism's manifest fields that go over to the plugin's `service` manifest as they are. */
const SERVICE_FIELDS = ['config', 'allowed_hosts', 'allowed_paths', 'memory', 'timeout_ms'] as const;
const MAX_ENTRIES = 16;

/** Whether `source` is an Extism manifest (a plain object with a `wasm` list), not bytes or a URL. */
export function isExtismManifest(source: unknown): source is ExtismManifest {
  return typeof source === 'object' && source !== null && !(source instanceof Uint8Array) && !(source instanceof Blob) && Array.isArray((source as { wasm?: unknown }).wasm);
}

/**
 * The package an Extism manifest makes, with its files fetched or decoded and checked against
 * their `hash`. Rejects with `registry/invalid-manifest`, `registry/invalid-name`,
 * `registry/bad-hash`, `registry/fetch-failed` and `kernel/unsupported` (a `path`: a page has no
 * file system to read it from).
 */
export async function extismPackage(m: ExtismManifest, name: string | undefined, onProgress?: (p: InstallProgress) => void): Promise<{ zip: Uint8Array; plugin: string }> {
  const bad = (why: string): never => {
    throw new KernelError('registry/invalid-manifest', `the Extism manifest: ${why}`);
  };
  if (m.wasm.length === 0 || m.wasm.length > MAX_ENTRIES) bad(`"wasm" must list 1 to ${MAX_ENTRIES} files`);
  const entries = m.wasm.map((w, i) => ({ ...checkEntry(w, i, bad), index: i }));
  const names = entries.map((e) => e.name);
  if (new Set(names).size !== names.length) bad('two "wasm" entries have the same name');
  const main = entries.find((e) => e.name === 'main') ?? (entries[entries.length - 1] as (typeof entries)[number]);
  const files: Record<string, Uint8Array> = {};
  let fileName: string | undefined;
  for (const e of entries) {
    const got = await entryBytes(e.w, onProgress);
    if (e.w.hash !== undefined) {
      const actual = await sha256Hex(got.bytes);
      if (actual !== e.w.hash.toLowerCase()) {
        throw new KernelError('registry/bad-hash', `wasm entry "${e.name}" has SHA-256 ${actual}, not the manifest's ${e.w.hash}`, { entry: e.name, expected: e.w.hash, actual });
      }
    }
    if (e === main) fileName = got.fileName;
    files[`${e.index}.wasm`] = got.bytes;
  }
  const plugin = name ?? (main.name !== 'main' ? main.name : fileName?.replace(/\.wasm$/i, ''));
  const linked = entries.filter((e) => e !== main);
  if (plugin === undefined || !isModuleName(plugin) || linked.some((e) => !isModuleName(`${plugin}.${e.name}`))) {
    throw new KernelError('registry/invalid-name', 'the plugin needs a name (letters, digits, ".", "_", "-"; short enough for "<name>.<entry>"): pass { name }', { name: plugin });
  }
  const service: Record<string, unknown> = {};
  for (const f of SERVICE_FIELDS) if (m[f] !== undefined) service[f] = m[f];
  if (linked.length > 0) service.wasm = linked.map((e) => ({ name: e.name, module: `${plugin}.${e.name}` }));
  const manifest = {
    name: plugin,
    version: '0.0.0',
    description: 'an Extism plugin, installed from its manifest',
    modules: [...linked.map((e) => ({ name: `${plugin}.${e.name}`, file: `${e.index}.wasm` })), { name: plugin, file: `${main.index}.wasm`, service }],
  };
  return { zip: zipPackage(JSON.stringify(manifest), files), plugin };
}

function checkEntry(w: unknown, i: number, bad: (why: string) => never): { w: ExtismManifestWasm; name: string } {
  if (typeof w !== 'object' || w === null) return bad(`wasm[${i}] must be an object`);
  const e = w as ExtismManifestWasm;
  const sources = (['data', 'url', 'path'] as const).filter((k) => e[k] !== undefined);
  if (sources.length !== 1) bad(`wasm[${i}] needs exactly one of "data", "url" or "path"`);
  if (e.hash !== undefined && (typeof e.hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(e.hash))) bad(`wasm[${i}].hash must be a SHA-256 in hex`);
  const name = e.name ?? 'main';
  if (typeof name !== 'string' || !isModuleName(name)) bad(`wasm[${i}].name must be a name (letters, digits, ".", "_", "-")`);
  return { w: e, name };
}

async function entryBytes(w: ExtismManifestWasm, onProgress?: (p: InstallProgress) => void): Promise<{ bytes: Uint8Array; fileName?: string }> {
  if (w.path !== undefined) throw new KernelError('kernel/unsupported', `wasm "path" ${JSON.stringify(w.path)}: a page has no file system to read it from (give "url" or "data")`, { path: w.path });
  if (w.url !== undefined) {
    if (typeof w.url !== 'string') throw new KernelError('registry/invalid-manifest', 'the Extism manifest: "url" must be a string');
    return fetchSource(w.url, onProgress);
  }
  if (w.data instanceof Uint8Array) return { bytes: w.data };
  if (typeof w.data === 'string') {
    try {
      return { bytes: fromBase64(w.data) };
    } catch {
      throw new KernelError('registry/invalid-manifest', 'the Extism manifest: "data" must be bytes or base64 text');
    }
  }
  throw new KernelError('registry/invalid-manifest', 'the Extism manifest: "data" must be bytes or base64 text');
}
