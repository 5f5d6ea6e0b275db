/**
 * The per-process in-memory file system: one preopened directory per guest name, seeded from
 * `files` keyed by guest path `'<preopen>/<path>'`.
 */
import { DirNode, FileNode, link, unlink } from './vfs';
import { preopenFd, type DirFd } from './vfs-fd';

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

/** Builds one preopen's directory tree in the in-memory file system. */
export function buildPreopen(seed: PreopenSeed): DirFd {
  const root = new DirNode();
  for (const [rel, data] of seed.files) {
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
    // A path ending in `/` is a directory (an empty one, where nothing else is in it).
    if (rel.endsWith('/')) parts.push('.');
    const leaf = parts.pop();
    if (leaf === undefined || leaf === '..' || parts.includes('..')) continue;
    let dir = root;
    for (const part of parts) {
      let next = dir.entries.get(part);
      if (!(next instanceof DirNode)) {
        if (next !== undefined) unlink(dir, part); // a file given where a directory must be
        next = new DirNode(dir);
        link(dir, part, next);
      }
      dir = next;
    }
    if (leaf === '.' || dir.entries.has(leaf)) continue;
    link(dir, leaf, new FileNode(data));
  }
  return preopenFd(seed.name, root);
}
