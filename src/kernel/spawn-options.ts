/** Checks `kernel.spawn` options from untrusted callers; spawn-config.ts fills in what they leave out. */
import { KernelError, checkInProcess, checkRestartPolicy, isExecutionMode, checkWatchdogMs, type ExecutionMode, type RestartPolicy } from '../common';
import type { SpawnOptions } from './types';

/** Spawn options, checked and normalised; a field left out is undefined (the configuration or the manifest may give it). */
export interface AskedSpawn {
  args: string[] | undefined;
  env: string[];
  preopens: string[];
  files: Array<[string, Uint8Array]>;
  /** Guest directories that are the module's home (their preopens are in `preopens`). */
  homes: string[];
  /** Folders the person picked, by guest directory (their preopens are in `preopens`). */
  folders: Array<[string, FileSystemDirectoryHandle]>;
  stdin: Uint8Array | ReadableStream<Uint8Array> | undefined;
  mode: ExecutionMode | undefined;
  /** For the `remote` mode: the node it runs on. */
  node: string | undefined;
  tty: boolean;
  restart: RestartPolicy | undefined;
  watchdogMs: number | undefined;
  /** Service modules to instantiate in its own worker (ADR 0033); undefined: as its manifest says. */
  inProcess: string[] | undefined;
}

/** Spawn options with every setting decided: what a process is started with. */
export interface CheckedSpawn extends AskedSpawn {
  args: string[];
  mode: ExecutionMode;
}

function bad(message: string, details: Record<string, unknown> = {}): never {
  throw new KernelError('kernel/bad-argument', message, details);
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function checkSpawnOptions(opts: unknown): AskedSpawn {
  if (opts === undefined) opts = {};
  if (!isRecord(opts)) bad('spawn options must be an object');
  const o = opts as SpawnOptions & Record<string, unknown>;
  const args = o.args;
  if (args !== undefined && (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))) bad('args must be an array of strings');
  const envIn = o.env ?? {};
  if (!isRecord(envIn)) bad('env must be an object of strings');
  const env = Object.entries(envIn).map(([k, v]) => {
    if (typeof v !== 'string') bad(`env.${k} must be a string`);
    if (k === '' || k.includes('=') || k.includes('\0')) bad(`"${k}" is not a valid environment variable name`);
    return `${k}=${v}`;
  });
  const preopens = [...(o.preopens ?? [])];
  if (!Array.isArray(preopens) || !preopens.every((p) => typeof p === 'string' && p !== '')) bad('preopens must be an array of directory names');
  const filesIn = o.files ?? {};
  if (!isRecord(filesIn)) bad('files must be an object of Uint8Array keyed by guest path');
  const files = Object.entries(filesIn).map(([path, data]): [string, Uint8Array] => {
    if (!(data instanceof Uint8Array)) bad(`files["${path}"] must be a Uint8Array`, { path });
    return [path, data];
  });
  const mountsIn = o.mounts ?? {};
  if (!isRecord(mountsIn)) bad('mounts must be an object of "tmp", "home" or a FileSystemDirectoryHandle keyed by guest directory');
  const homes: string[] = [];
  const folders: Array<[string, FileSystemDirectoryHandle]> = [];
  for (const [dir, kind] of Object.entries(mountsIn)) {
    if (dir === '' || dir.includes('\0')) bad(`"${dir}" is not a guest directory`, { dir });
    const folder = isDirectoryHandle(kind);
    if (kind !== 'tmp' && kind !== 'home' && !folder) bad(`mounts["${dir}"] must be "tmp", "home" or a FileSystemDirectoryHandle`, { dir });
    if (preopens.includes(dir)) bad(`"${dir}" is mounted twice`, { dir });
    preopens.push(dir);
    if (kind === 'home') homes.push(dir);
    if (folder) folders.push([dir, kind as FileSystemDirectoryHandle]);
  }
  if (homes.length > 1) bad('a process has one home: mount "home" once');
  const stdin = o.stdin;
  if (stdin !== undefined && !(stdin instanceof Uint8Array) && !(stdin instanceof ReadableStream)) {
    bad('stdin must be a Uint8Array or a ReadableStream');
  }
  const node = o.node;
  if (node !== undefined && (typeof node !== 'string' || node === '')) bad('node must be a node id (kernel.nodes())', { node });
  // A node says where: the mode is remote.
  const mode = o.mode ?? (node !== undefined ? 'remote' : undefined);
  if (mode !== undefined && !isExecutionMode(mode)) bad('mode must be "worker", "iframe", "inpage" or "remote"', { mode });
  if (node !== undefined && mode !== 'remote') bad(`a node is given only with mode "remote", not "${mode}"`, { mode });
  if (o.tty !== undefined && typeof o.tty !== 'boolean') bad('tty must be a boolean');
  const restart = o.restart === undefined ? undefined : checkRestartPolicy(o.restart);
  if (typeof restart === 'string') bad(restart);
  const watchdogMs = o.watchdogMs === undefined ? undefined : checkWatchdogMs(o.watchdogMs);
  if (typeof watchdogMs === 'string') bad(watchdogMs);
  const inProcess = o.inProcess === undefined ? undefined : checkInProcess(o.inProcess, 'inProcess');
  if (typeof inProcess === 'string') bad(inProcess);
  return { args, env, preopens, files, homes, folders, stdin, mode, node, tty: o.tty ?? false, restart, watchdogMs, inProcess };
}

/** A directory handle (the File System Access API's, or OPFS's), told by its shape: a page may come from another realm. */
function isDirectoryHandle(x: unknown): boolean {
  return isRecord(x) && x.kind === 'directory' && typeof x.getFileHandle === 'function' && typeof x.getDirectoryHandle === 'function' && typeof x.removeEntry === 'function';
}
