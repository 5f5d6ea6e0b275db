/**
 * JavaScript modules: an ES module whose default export (or `main` export) is
 * `async function main(webmk)`, with its manifest in a leading comment
 * `/* webmk.manifest { "name": ..., "permissions": ... } *\/`. Nothing of it runs at install: the
 * text is decoded and the manifest read; a syntax error shows when it is started.
 */
import { KernelError, requestedPermissions, type Capability } from '../common';
import { parseManifest, type Analysed } from './manifest';

/** The largest JS module accepted. */
const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;
const MANIFEST_COMMENT = /^\s*(?:#![^\n]*\n\s*)?\/\*\s*webmk\.manifest\s*([\s\S]*?)\*\//;

/** What every JS module gets through its handle. */
const SCRIPT_CAPABILITIES: Capability[] = ['args', 'env', 'exit', 'stdin', 'stdout', 'webmk'];

/** True for bytes that are to be read as a JS module: a `.js`/`.mjs` file, or a manifest comment first. */
export function isScript(bytes: Uint8Array, fileName: string | undefined): boolean {
  if (fileName !== undefined && /\.m?js$/i.test(fileName)) return true;
  const head = new TextDecoder('utf-8').decode(bytes.subarray(0, 256));
  return /^\s*(?:#![^\n]*\n\s*)?\/\*\s*webmk\.manifest/.test(head);
}

/** Describes a JS module; rejects with `registry/invalid-script` or `registry/invalid-manifest`. */
export function analyseScript(bytes: Uint8Array): Analysed {
  if (bytes.length > MAX_SCRIPT_BYTES) {
    throw new KernelError('registry/invalid-script', `a JS module is at most ${MAX_SCRIPT_BYTES / 1024 / 1024} MiB`, { size: bytes.length });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new KernelError('registry/invalid-script', 'a JS module must be UTF-8 text', { size: bytes.length });
  }
  if (text.includes('\0')) throw new KernelError('registry/invalid-script', 'a JS module must be text (it holds a NUL byte)');
  const found = MANIFEST_COMMENT.exec(text);
  const manifest = found?.[1] === undefined ? {} : parseManifest(found[1], 'the webmk.manifest comment');
  return {
    manifest,
    info: {
      version: typeof manifest.version === 'string' ? manifest.version : '0.0.0',
      description: typeof manifest.description === 'string' ? manifest.description : '',
      size: bytes.length,
      kind: 'js',
      command: true,
      imports: [],
      exports: [],
      capabilities: SCRIPT_CAPABILITIES,
      manifest,
      requested: requestedPermissions(manifest),
    },
  };
}
