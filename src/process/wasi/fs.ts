/**
 * The per-process in-memory file system: one preopened directory per guest name, seeded from
 * `files` keyed by guest path `'<preopen>/<path>'`.
 */
import { Directory, File, PreopenDirectory, type Inode } from '@bjorn3/browser_wasi_shim';

/** A preopen name and the files under it, by path relative to it. */
export interface PreopenSeed {
  name: string;
  files: Map<string, Uint8Array>;
}

/** Splits `files` among `preopens` (longest match wins); a path under no preopen adds one. */
export function planPreopens(preopens: readonly string[], files: ReadonlyArray<readonly [string, Uint8Array]>): PreopenSeed[] {
  const seeds = new Map<string, PreopenSeed>();
  for (const name of preopens) seeds.set(name, { name, files: new Map() });
  for (const [path, data] of files) {
    const owner = [...seeds.keys()]
      .filter((p) => relativeTo(p, path) !== null)
      .sort((a, b) => b.length - a.length)[0];
    const name = owner ?? defaultPreopen(path);
    let seed = seeds.get(name);
    if (seed === undefined) {
      seed = { name, files: new Map() };
      seeds.set(name, seed);
    }
    const rel = relativeTo(name, path);
    if (rel !== null && rel !== '') seed.files.set(rel, data);
  }
  return [...seeds.values()];
}

/** `path` relative to the preopen `dir`, or null when it is not under it. */
function relativeTo(dir: string, path: string): string | null {
  if (dir === '/' || dir === '') return path.startsWith('/') ? path.slice(1) : null;
  const d = dir.replace(/\/+$/, '');
  return path.startsWith(`${d}/`) ? path.slice(d.length + 1) : null;
}

function defaultPreopen(path: string): string {
  if (path.startsWith('/')) return '/';
  const first = path.split('/')[0];
  return first === undefined || first === '' ? '.' : first;
}

type Tree = Map<string, Uint8Array | Tree>;

/** Builds the shim's directory tree for one seed (bottom-up, so parent links are set). */
export function buildPreopen(seed: PreopenSeed): PreopenDirectory {
  const root: Tree = new Map();
  for (const [rel, data] of seed.files) {
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
    const leaf = parts.pop();
    if (leaf === undefined || leaf === '..' || parts.includes('..')) continue;
    let dir = root;
    for (const part of parts) {
      let next = dir.get(part);
      if (!(next instanceof Map)) {
        next = new Map();
        dir.set(part, next);
      }
      dir = next;
    }
    dir.set(leaf, data);
  }
  return new PreopenDirectory(seed.name, toInodes(root));
}

function toInodes(tree: Tree): Map<string, Inode> {
  const out = new Map<string, Inode>();
  for (const [name, node] of tree) {
    out.set(name, node instanceof Map ? new Directory(toInodes(node)) : new File(node));
  }
  return out;
}
