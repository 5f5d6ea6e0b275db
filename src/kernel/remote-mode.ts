/**
 * The kernel's side of remote mode (ADR 0020): what a remote spawn needs checked before it
 * starts (the node is connected, the module installed there), and how this kernel serves the
 * spawns other nodes ask of it (an ordinary local process, listed with the caller's node).
 */
import { KernelError, type ModuleInfo, type ProcessInfo } from '../common';
import { Remote, type BusLike, type Link, type NodeGone, type RemoteModule, type RemoteOptions, type ServedProcess, type SpawnRequest } from '../remote';
import type { Ready } from './lifecycle';
import type { AskedSpawn } from './spawn-options';
import type { Process, SpawnOptions } from './types';

/** What remote mode needs of the kernel. */
export interface RemoteModeDeps {
  /** The bus's page side, if the kernel has a bus. */
  bus(): BusLike | undefined;
  lookup(name: string): Promise<ModuleInfo | undefined>;
  spawn(name: string, opts: SpawnOptions): Promise<Process>;
  /** The live row of a process (to mark it with its other node). */
  row(pid: number): ProcessInfo | undefined;
  /** A row changed, or a node came or went. */
  processesChanged(): void;
  nodesChanged(gone?: NodeGone): void;
  /** Whether the node at the other end of `link` may run `module` here; rejects `remote/refused`. */
  admit(link: Link, module: string, at: 'lookup' | 'spawn'): Promise<void>;
}

/** The description another node gets of a module installed here. */
function describe(info: ModuleInfo): RemoteModule {
  const { name, version, description, kind, command, sha256, size } = info;
  return { name, version, description, kind, command, sha256, size };
}

/** A module record for a process that runs elsewhere: what the other node told, granted nothing here. */
function elsewhere(m: RemoteModule): ModuleInfo {
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
    admit: (link, module, at) => deps.admit(link, module, at),
    spawn: async (req: SpawnRequest, node: string): Promise<ServedProcess> => {
      const env = Object.fromEntries(req.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      const files = Object.fromEntries(req.files);
      // Its caller supervises it: here it runs once, whatever its configuration says.
      const p = await deps.spawn(req.name, { args: req.args, env, tty: req.tty, preopens: req.preopens, files, restart: { restart: 'temporary' } });
      const grants = (await deps.lookup(req.name))?.grants;
      const row = deps.row(p.pid);
      if (row !== undefined) {
        row.node = node;
        row.remotePid = req.pid;
        deps.processesChanged();
      }
      return { ...p, grants: { publish: grants?.publish ?? [], subscribe: grants?.subscribe ?? [] } };
    },
    ended: (pid) => {
      const row = deps.row(pid);
      return row?.reason === undefined ? undefined : { reason: row.reason, ...(row.message !== undefined ? { message: row.message } : {}) };
    },
  });
}

/** Checks a remote spawn before anything starts: the node is connected and has the module. */
export async function remoteReady(remote: Remote, name: string, asked: AskedSpawn): Promise<Ready> {
  const node = asked.node;
  if (node === undefined) throw new KernelError('kernel/bad-argument', 'remote mode needs a node: spawn(name, { mode: "remote", node })');
  if (asked.homes.length > 0) throw new KernelError('kernel/unsupported', 'a home is kept only for a process in worker mode, not "remote"', { mode: 'remote' });
  const module = await remote.lookup(node, name);
  return {
    info: elsewhere(module),
    o: { ...asked, mode: 'remote', args: asked.args ?? [], watchdogMs: undefined },
    // Nothing runs here: the remote host ignores the program.
    runnable: { kind: 'js', script: '' },
  };
}
