/**
 * A migratable process's open files, carried in its snapshot (ADR 0028): every inode reachable
 * from its descriptors (its preopens' trees, its `/tmp`, files unlinked while open), with their
 * bytes, links and times, and its descriptor table (which fd is which file, its offset, flags and
 * rights). Plain data (structured-cloneable: it crosses to the kernel, a frame and IndexedDB);
 * read back as `unknown`, and refused whole if anything in it is out of shape.
 */
import type { Fd } from '@bjorn3/browser_wasi_shim';
import type { Keeper } from './home';
import { DirNode, FileNode, LinkNode, type Inode } from './vfs';
import { DirFd, FileFd } from './vfs-fd';

/** Format of the image; another is refused (the files start fresh). */
const IMAGE_V = 1;

type Times = [bigint, bigint, bigint];
type NodeImage = { k: 'f'; data: Uint8Array; t: Times; n: bigint } | { k: 'd'; entries: Array<[string, number]>; parent: number; t: Times; n: bigint } | { k: 'l'; target: string; t: Times; n: bigint };
type FdImage =
  | null
  | { k: 'stdio'; which: number }
  | { k: 'file'; node: number; pos: number; rb: bigint; ri: bigint; flags: number; home?: { mount: string; path: string; mtim: bigint } }
  | { k: 'dir'; node: number; rb: bigint; ri: bigint; preopen?: string; home?: string };

/** What a snapshot carries of a process's files. */
export interface FilesImage {
  v: typeof IMAGE_V;
  nodes: NodeImage[];
  fds: FdImage[];
}

/** How a kept tree's keeper and its mount name map to each other (preview1.ts makes them). */
export interface HomeCalls {
  mountOf(keeper: Keeper): string | undefined;
  /** The keeper of a restored tree at `mount`. */
  keeperFor(mount: string): Keeper | undefined;
  /** The root of a preopen that is a home: its mount name. */
  rootMount(root: DirNode): string | undefined;
  /** Marks a restored tree a home again. */
  keep(root: DirNode, mount: string): void;
}

/** The image of the descriptor table; `stdio` are the ring-backed streams (0, 1, 2 as opened). */
export function captureFiles(table: ReadonlyArray<Fd | undefined>, stdio: readonly Fd[], homes: HomeCalls): FilesImage {
  const index = new Map<Inode, number>();
  const nodes: NodeImage[] = [];
  const add = (node: Inode): number => {
    const known = index.get(node);
    if (known !== undefined) return known;
    const at = nodes.length;
    index.set(node, at);
    const t: Times = [node.atim, node.mtim, node.ctim];
    if (node instanceof FileNode) {
      nodes.push({ k: 'f', data: node.bytes().slice(), t, n: node.nlink });
    } else if (node instanceof LinkNode) {
      nodes.push({ k: 'l', target: node.target, t, n: node.nlink });
    } else {
      const img: NodeImage = { k: 'd', entries: [], parent: at, t, n: node.nlink };
      nodes.push(img);
      img.parent = add(node.parent);
      for (const [name, child] of node.entries) img.entries.push([name, add(child)]);
    }
    return at;
  };
  const fds: FdImage[] = table.map((f) => {
    const which = f === undefined ? -1 : stdio.indexOf(f);
    if (which >= 0) return { k: 'stdio', which };
    if (f instanceof FileFd) {
      const mount = f.home === undefined ? undefined : homes.mountOf(f.home.place.keeper);
      const home = f.home !== undefined && mount !== undefined ? { home: { mount, path: f.home.place.path, mtim: f.home.mtim } } : {};
      return { k: 'file', node: add(f.node), pos: f.position, rb: f.rightsBase, ri: f.rightsInheriting, flags: f.flags, ...home };
    }
    if (f instanceof DirFd) {
      const home = f.preopen !== undefined ? homes.rootMount(f.node) : undefined;
      return {
        k: 'dir',
        node: add(f.node),
        rb: f.rightsBase,
        ri: f.rightsInheriting,
        ...(f.preopen !== undefined ? { preopen: f.preopen } : {}),
        ...(home !== undefined ? { home } : {}),
      };
    }
    return null;
  });
  return { v: IMAGE_V, nodes, fds };
}

/**
 * The descriptor table an image describes, over fresh inodes; `stdio` fill the stdio entries.
 * Undefined when the image is not one (the process then keeps the files it was started with).
 */
export function restoreFiles(image: unknown, stdio: readonly Fd[], homes: HomeCalls): Array<Fd | undefined> | undefined {
  const img = parseImage(image);
  if (img === undefined) return undefined;
  const made: Inode[] = img.nodes.map((n) => (n.k === 'f' ? new FileNode(n.data) : n.k === 'l' ? new LinkNode(n.target) : new DirNode()));
  for (const [i, n] of img.nodes.entries()) {
    const node = made[i] as Inode;
    [node.atim, node.mtim, node.ctim] = n.t;
    node.nlink = n.n;
    if (n.k !== 'd' || !(node instanceof DirNode)) continue;
    const parent = made[n.parent];
    if (!(parent instanceof DirNode)) return undefined;
    node.parent = parent;
    for (const [name, child] of n.entries) {
      const c = made[child];
      if (c === undefined) return undefined;
      node.entries.set(name, c);
    }
  }
  const table: Array<Fd | undefined> = [];
  for (const f of img.fds) {
    if (f === null) table.push(undefined);
    else if (f.k === 'stdio') table.push(stdio[f.which]);
    else if (f.k === 'file') {
      const node = made[f.node];
      if (!(node instanceof FileNode)) return undefined;
      const fd = new FileFd(node, f.rb, f.ri, f.flags);
      fd.position = f.pos;
      const keeper = f.home === undefined ? undefined : homes.keeperFor(f.home.mount);
      if (f.home !== undefined && keeper !== undefined) fd.home = { place: { keeper, path: f.home.path }, mtim: f.home.mtim };
      table.push(fd);
    } else {
      const node = made[f.node];
      if (!(node instanceof DirNode)) return undefined;
      if (f.home !== undefined) homes.keep(node, f.home);
      table.push(new DirFd(node, f.rb, f.ri, f.preopen));
    }
  }
  return table;
}

const isTimes = (t: unknown): t is Times => Array.isArray(t) && t.length === 3 && t.every((x) => typeof x === 'bigint');
const isIndex = (x: unknown, n: number): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) < n;
const isRights = (x: unknown): x is bigint => typeof x === 'bigint';

/** The image, checked as far as restoring relies on it; undefined if it is not one. */
function parseImage(x: unknown): FilesImage | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const r = x as Record<string, unknown>;
  if (r.v !== IMAGE_V || !Array.isArray(r.nodes) || !Array.isArray(r.fds)) return undefined;
  const n = r.nodes.length;
  const nodeOk = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null) return false;
    const o = v as Record<string, unknown>;
    if (!isTimes(o.t) || typeof o.n !== 'bigint') return false;
    if (o.k === 'f') return o.data instanceof Uint8Array;
    if (o.k === 'l') return typeof o.target === 'string';
    return o.k === 'd' && isIndex(o.parent, n) && Array.isArray(o.entries) && o.entries.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && isIndex(e[1], n));
  };
  const fdOk = (v: unknown): boolean => {
    if (v === null) return true;
    if (typeof v !== 'object') return false;
    const o = v as Record<string, unknown>;
    if (o.k === 'stdio') return o.which === 0 || o.which === 1 || o.which === 2;
    if (!isIndex(o.node, n) || !isRights(o.rb) || !isRights(o.ri)) return false;
    if (o.k === 'file') {
      const h = o.home as Record<string, unknown> | undefined;
      const homeOk = h === undefined || (typeof h === 'object' && h !== null && typeof h.mount === 'string' && typeof h.path === 'string' && typeof h.mtim === 'bigint');
      return Number.isSafeInteger(o.pos) && (o.pos as number) >= 0 && Number.isInteger(o.flags) && homeOk;
    }
    return o.k === 'dir' && (o.preopen === undefined || typeof o.preopen === 'string') && (o.home === undefined || typeof o.home === 'string');
  };
  if (!r.nodes.every(nodeOk) || !r.fds.every(fdOk)) return undefined;
  return r as unknown as FilesImage;
}
