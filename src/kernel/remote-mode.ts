/**
 * The kernel's side of remote mode (ADR 0020): what a remote spawn needs checked before it
 * starts (the node is connected, the module installed there), and how this kernel serves the
 * spawns other nodes ask of it (an ordinary local process, listed with the caller's node).
 */
import { KernelError, type ModuleInfo, type ProcessInfo } from '../common';
import type { Snapshot } from '../ipc';
import { Remote, fromWire, type BusLike, type Link, type NodeGone, type RemoteModule, type RemoteOptions, type ServedProcess, type SpawnRequest, type WindowsLike } from '../remote';
import type { Lifecycle, Ready } from './lifecycle';
import type { Runnable } from './runnable';
import { effectiveSpawn } from './spawn-config';
import type { AskedSpawn } from './spawn-options';
import type { Process, SpawnOptions } from './types';

/** What remote mode needs of the kernel. */
export interface RemoteModeDeps {
  /** The bus's page side, if the kernel has a bus. */
  bus(): BusLike | undefined;
  lookup(name: string): Promise<ModuleInfo | undefined>;
  spawn(name: string, opts: SpawnOptions): Promise<Process>;
  /** Starts `name` here from a snapshot of its instrumented bytes `sha256` (a process moved here); rejects `migrate/unsupported` for other bytes. */
  resume(name: string, opts: SpawnOptions, snapshot: Snapshot, sha256: string): Promise<Process>;
  /** The live row of a process (to mark it with its other node). */
  row(pid: number): ProcessInfo | undefined;
  /** A row changed, or a node came or went. */
  processesChanged(): void;
  nodesChanged(gone?: NodeGone): void;
  /** Whether the node at the other end of `link` may run (or install and run) `module` here; rejects `remote/refused`. */
  admit(link: Link, module: string, at: 'lookup' | 'spawn' | 'install', bytes?: number): Promise<void>;
  /** Installs a package another node sent (the person allowed it); resolves with its modules. */
  install(pkg: Uint8Array): Promise<ModuleInfo[]>;
  /** The windows of this node, if it has them. */
  windows(): WindowsLike | undefined;
  /** A service call another node asked for, made as this node's page makes one (`kernel.call`). */
  call(module: string, fn: string, input: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
}

/** The description another node gets of a module installed here. */
function describe(info: ModuleInfo): RemoteModule {
  const { name, version, description, kind, command, sha256, size } = info;
  return { name, version, description, kind, command, sha256, size, ...(info.migratable !== undefined ? { migratable: info.migratable.sha256 } : {}) };
}

/** A module record for a process that runs elsewhere: what the other node told, granted nothing here. */
function elsewhere(remote: RemoteModule): ModuleInfo {
  const { migratable: _migratable, ...m } = remote;
  return {
    ...m,
    installedAt: 0,
    imports: [],
    exports: [],
    capabilities: [],
    manifest: {},
    requested: [],
    grants: { publish: [], subscribe: [], kernel: [] },
    config: {},
    package: m.name,
  };
}

/** Starts the kernel's remote mode: the tabs transport, and serving spawns other nodes ask for. */
export function startRemote(opts: RemoteOptions, deps: RemoteModeDeps): Remote {
  return new Remote(opts, {
    changed: (gone) => deps.nodesChanged(gone),
    bus: () => deps.bus(),
    spawned: (pid, node, remotePid) => {
      const row = deps.row(pid);
      if (row === undefined) return;
      row.node = node;
      row.remotePid = remotePid;
      deps.processesChanged();
    },
    lookup: async (name) => {
      const info = await deps.lookup(name);
      // Only commands run for another node; a service is called, not spawned.
      return info !== undefined && info.command ? describe(info) : undefined;
    },
    admit: (link, module, at, bytes) => deps.admit(link, module, at, bytes),
    windows: () => deps.windows(),
    call: (module, fn, input, timeoutMs) => deps.call(module, fn, input, timeoutMs),
    install: async (name, pkg) => {
      const info = (await deps.install(pkg)).find((m) => m.name === name);
      if (info === undefined || !info.command) throw new KernelError('remote/not-installed', `the package sent holds no command "${name}"`, { name });
      return describe(info);
    },
    spawn: async (req: SpawnRequest, node: string): Promise<ServedProcess> => {
      const env = Object.fromEntries(req.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      const files = Object.fromEntries(req.files);
      // Its caller supervises it: here it runs once, whatever its configuration says.
      const opts: SpawnOptions = { args: req.args, env, tty: req.tty, preopens: req.preopens, files, restart: { restart: 'temporary' } };
      const p = req.resume === undefined ? await deps.spawn(req.name, opts) : await deps.resume(req.name, opts, fromWire(req.resume.snapshot), req.resume.sha256);
      // Marked before anything else waits: its window (gfx) is told by the row that it shows elsewhere.
      const row = deps.row(p.pid);
      if (row !== undefined) {
        row.node = node;
        row.remotePid = req.pid;
        deps.processesChanged();
      }
      const grants = (await deps.lookup(req.name))?.grants;
      return { ...p, grants: { publish: grants?.publish ?? [], subscribe: grants?.subscribe ?? [] } };
    },
    ended: (pid) => {
      const row = deps.row(pid);
      return row?.reason === undefined ? undefined : { reason: row.reason, ...(row.message !== undefined ? { message: row.message } : {}) };
    },
  });
}

/** Largest package sent along to a node that lacks the module (a device link's frame holds 16 MiB). */
export const MAX_CARRY_BYTES = 15 * 1024 * 1024;

/**
 * The module on `node`; one it lacks is sent along (its package, from `pkg`) when this node has
 * it, and installed there if the person there allows it (ADR 0029). Tabs share one registry, so
 * between tabs nothing is ever sent.
 */
async function findOrCarry(remote: Remote, node: string, name: string, pkg: (name: string) => Promise<Uint8Array | undefined>): Promise<RemoteModule> {
  try {
    return await remote.lookup(node, name);
  } catch (e) {
    if (!(e instanceof KernelError) || e.code !== 'remote/not-installed') throw e;
    const bytes = await pkg(name);
    if (bytes === undefined) throw e;
    if (bytes.length > MAX_CARRY_BYTES) {
      throw new KernelError('remote/too-large', `"${name}" is not installed on node ${node}, and its package (${bytes.length} bytes) is over the ${MAX_CARRY_BYTES} bytes sent along`, { name, node, bytes: bytes.length });
    }
    return remote.carry(node, name, bytes);
  }
}

/**
 * Checks a remote spawn before anything starts: the node is connected and has the module (or
 * took it, sent along from `pkg`).
 */
export async function remoteReady(remote: Remote, name: string, asked: AskedSpawn, pkg: (name: string) => Promise<Uint8Array | undefined> = async () => undefined): Promise<Ready> {
  const node = asked.node;
  if (node === undefined) throw new KernelError('kernel/bad-argument', 'remote mode needs a node: spawn(name, { mode: "remote", node })');
  if (asked.homes.length > 0) throw new KernelError('kernel/unsupported', 'a home is kept only for a process in worker mode, not "remote"', { mode: 'remote' });
  const module = await findOrCarry(remote, node, name, pkg);
  return {
    info: elsewhere(module),
    o: { ...asked, mode: 'remote', args: asked.args ?? [], watchdogMs: undefined },
    // Nothing runs here: the remote host ignores the program.
    runnable: { kind: 'js', script: '' },
  };
}

/** What relocating needs of the kernel: its catalog, and the packages it can send along. */
export interface RelocateDeps {
  lookup(name: string): Promise<ModuleInfo | undefined>;
  runnable(info: ModuleInfo): Promise<Runnable>;
  pkg(name: string): Promise<Uint8Array | undefined>;
}

/**
 * What a remote process runs instead, after its link was lost, where its restart policy's
 * `fallback` says (ADR 0029): on node `fallback` if that is a node id connected now that runs it
 * (asked as any remote spawn; its module sent along if it lacks it), else on this node: the
 * module installed here, with its spawn's settings, in the mode its configuration or manifest
 * gives unless that is `remote` again (then a worker). Rejects with `kernel/unknown-module` when
 * it is not installed here either.
 */
export async function relocate(remote: Remote, ready: Ready, fallback: string, deps: RelocateDeps): Promise<Ready> {
  const name = ready.info.name;
  if (fallback !== 'local') {
    try {
      return await remoteReady(remote, name, { ...ready.o, mode: 'remote', node: fallback }, deps.pkg);
    } catch {
      // That node is gone too, or will not run it: this node is the last resort.
    }
  }
  const info = await deps.lookup(name);
  if (info === undefined) throw new KernelError('kernel/unknown-module', `"${name}" is not installed on this node`, { name });
  const asked = { ...ready.o, mode: undefined, node: undefined };
  let o = effectiveSpawn(asked, info);
  if (o.mode === 'remote') o = effectiveSpawn({ ...asked, mode: 'worker' }, info);
  return { info, o, runnable: await deps.runnable(info) };
}

/**
 * Before a move to another node parks anything: the node is connected and has the module
 * migratable from the same instrumented bytes (asked as a lookup is, so a device's person is
 * asked first). Rejects `kernel/bad-argument` (no node), `remote/unknown-node`,
 * `remote/not-installed`, `remote/refused`, `migrate/unsupported` (other bytes there),
 * `migrate/not-migratable`.
 */
export async function checkRemoteMove(remote: Remote, lc: Lifecycle, node: string | undefined): Promise<void> {
  if (node === undefined) throw new KernelError('kernel/bad-argument', 'a move to remote mode needs a node: setMode(pid, "remote", { node })');
  if (lc.row.mode === 'remote') throw new KernelError('migrate/unsupported', `process ${lc.row.pid} runs on another node: it cannot be parked from here`, { pid: lc.row.pid });
  const local = lc.ready.info.migratable?.sha256;
  if (local === undefined) throw new KernelError('migrate/not-migratable', `"${lc.row.name}" is not migratable`, { pid: lc.row.pid });
  const there = await remote.lookup(node, lc.row.name);
  if (there.migratable !== local) {
    throw new KernelError('migrate/unsupported', `node ${node} does not have "${lc.row.name}" migratable from the same bytes`, { node, name: lc.row.name });
  }
}
