/**
 * Validates a candidate module and describes it: compiles it (the only real validation), reads
 * its imports, exports and `webmk.manifest` section, and names what it asks of the system.
 */
import { KernelError, isModuleName, type Capability, type ModuleManifest, type ModuleSymbol, requestedPermissions } from '../common';
import { parseManifest, type Analysed } from './manifest';
import { analyseScript, isScript } from './script';
import { hasWasmMagic, sections } from './wasm-binary';

export const MANIFEST_SECTION = 'webmk.manifest';

/**
 * Compiles and describes `bytes` (a WebAssembly module, or a JS module: see script.ts); rejects
 * with a `registry/*` KernelError saying why not.
 */
export async function analyse(bytes: Uint8Array, fileName?: string): Promise<Analysed> {
  if (bytes.length === 0) throw new KernelError('registry/empty', 'the file is empty');
  if (!hasWasmMagic(bytes) && isScript(bytes, fileName)) return analyseScript(bytes);
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
      kind: 'wasm',
      command: exports.some((e) => e.name === '_start' && e.kind === 'function'),
      imports,
      exports,
      capabilities: capabilities(imports),
      manifest,
      requested: requestedPermissions(manifest, imports),
    },
  };
}

function readManifest(module: WebAssembly.Module): ModuleManifest {
  const found = WebAssembly.Module.customSections(module, MANIFEST_SECTION);
  const raw = found[0];
  if (raw === undefined) return {};
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (e) {
    throw new KernelError('registry/invalid-manifest', `the ${MANIFEST_SECTION} section is not valid UTF-8: ${(e as Error).message}`);
  }
  return parseManifest(text, `the ${MANIFEST_SECTION} section`);
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
    } else if (i.module === 'extism:host/env') {
      caps.add('extism');
    } else {
      caps.add('unknown-imports');
    }
  }
  return [...caps].sort();
}

/** The module name to use: the option, then the file's name, then the manifest's; validated. */
export function chooseName(explicit: string | undefined, manifest: ModuleManifest, fileName: string | undefined): string {
  const fromFile = fileName?.replace(/\.(wasm|m?js)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+|-+$/g, '');
  const name = explicit ?? (fromFile || undefined) ?? (typeof manifest.name === 'string' ? manifest.name : undefined);
  if (name === undefined || name === '') {
    throw new KernelError('registry/invalid-name', 'the module needs a name: pass { name } or install a named file');
  }
  if (!isModuleName(name)) {
    throw new KernelError('registry/invalid-name', `"${name}" is not a valid module name (letters, digits, ".", "_", "-"; at most 64)`, { name });
  }
  return name;
}
