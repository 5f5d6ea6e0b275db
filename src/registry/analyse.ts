/**
 * Validates a candidate module and describes it: compiles it (the only real validation), reads
 * its imports, exports and `webmk.manifest` section, and names what it asks of the system.
 */
import { KernelError, isModuleName, manifestConfig, requestedPermissions, type Capability, type ModuleInfo, type ModuleManifest, type ModuleSymbol } from '../common';
import { hasWasmMagic, sections } from './wasm-binary';

export const MANIFEST_SECTION = 'webmk.manifest';

/** A module that passed validation, not yet stored. */
export interface Analysed {
  module: WebAssembly.Module;
  info: Omit<ModuleInfo, 'name' | 'installedAt' | 'source' | 'sha256' | 'grants' | 'config'>;
  manifest: ModuleManifest;
}

/** Compiles and describes `bytes`; rejects with a `registry/*` KernelError saying why not. */
export async function analyse(bytes: Uint8Array): Promise<Analysed> {
  if (bytes.length === 0) throw new KernelError('registry/empty', 'the file is empty');
  if (!hasWasmMagic(bytes)) {
    throw new KernelError('registry/not-wasm', 'this is not a WebAssembly module (no \\0asm header)', {
      size: bytes.length,
    });
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (sections(bytes) === 'truncated') {
      throw new KernelError('registry/truncated', `the module is truncated: ${message}`, { size: bytes.length });
    }
    throw new KernelError('registry/invalid-wasm', `the module does not compile: ${message}`, { size: bytes.length });
  }
  const manifest = readManifest(module);
  const imports: ModuleSymbol[] = WebAssembly.Module.imports(module).map((i) => ({ module: i.module, name: i.name, kind: i.kind }));
  const exports: ModuleSymbol[] = WebAssembly.Module.exports(module).map((e) => ({ name: e.name, kind: e.kind }));
  return {
    module,
    manifest,
    info: {
      version: typeof manifest.version === 'string' ? manifest.version : '0.0.0',
      description: typeof manifest.description === 'string' ? manifest.description : '',
      size: bytes.length,
      command: exports.some((e) => e.name === '_start' && e.kind === 'function'),
      imports,
      exports,
      capabilities: capabilities(imports),
      manifest,
      requested: requestedPermissions(manifest),
    },
  };
}

function readManifest(module: WebAssembly.Module): ModuleManifest {
  const found = WebAssembly.Module.customSections(module, MANIFEST_SECTION);
  const raw = found[0];
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (e) {
    throw new KernelError('registry/invalid-manifest', `the ${MANIFEST_SECTION} section is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KernelError('registry/invalid-manifest', `the ${MANIFEST_SECTION} section must hold a JSON object`);
  }
  const m = parsed as Record<string, unknown>;
  for (const key of ['name', 'version', 'description'] as const) {
    if (key in m && typeof m[key] !== 'string') {
      throw new KernelError('registry/invalid-manifest', `manifest field "${key}" must be a string`);
    }
  }
  // How it asks to be run (restart, watchdogMs, mode, autostart, startOrder): refused whole if malformed.
  const config = manifestConfig(m);
  if (typeof config === 'string') throw new KernelError('registry/invalid-manifest', `manifest: ${config}`);
  // Plain data only: a copy without prototype tricks.
  return JSON.parse(JSON.stringify(m)) as ModuleManifest;
}

const WASI_CAPABILITIES: Array<[RegExp, Capability]> = [
  [/^args_/, 'args'],
  [/^environ_/, 'env'],
  [/^fd_read$/, 'stdin'],
  [/^fd_write$/, 'stdout'],
  // Not fd_seek/fd_filestat_get/fd_prestat_*: libc's stdio and start-up import those in every
  // program. Opening, listing or changing anything by path is what uses the file system.
  [/^(path_|fd_readdir)/, 'files'],
  [/^clock_/, 'clock'],
  [/^random_get$/, 'random'],
  [/^poll_oneoff$/, 'sleep'],
  [/^proc_exit$/, 'exit'],
  [/^sock_/, 'sockets'],
];

/** What the module may ask for, read from its imports (sorted, without repeats). */
export function capabilities(imports: ModuleSymbol[]): Capability[] {
  const caps = new Set<Capability>();
  for (const i of imports) {
    if (i.module === 'wasi_snapshot_preview1' || i.module === 'wasi_unstable') {
      for (const [re, cap] of WASI_CAPABILITIES) if (re.test(i.name)) caps.add(cap);
    } else if (i.module === 'webmk') {
      caps.add('webmk');
    } else {
      caps.add('unknown-imports');
    }
  }
  return [...caps].sort();
}

/** The module name to use: the option, then the file's name, then the manifest's; validated. */
export function chooseName(explicit: string | undefined, manifest: ModuleManifest, fileName: string | undefined): string {
  const fromFile = fileName?.replace(/\.wasm$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+|-+$/g, '');
  const name = explicit ?? (fromFile || undefined) ?? (typeof manifest.name === 'string' ? manifest.name : undefined);
  if (name === undefined || name === '') {
    throw new KernelError('registry/invalid-name', 'the module needs a name: pass { name } or install a named file');
  }
  if (!isModuleName(name)) {
    throw new KernelError('registry/invalid-name', `"${name}" is not a valid module name (letters, digits, ".", "_", "-"; at most 64)`, { name });
  }
  return name;
}
