/**
 * Remote mode as the kernel sees it (ADR 0020): this node's id, the nodes it reaches, a session
 * per link, and the `remote` execution mode's host. Transports hand their links to `attach`:
 * the tabs transport here; devices (js-libp2p) plug in the same way.
 */
import { EXIT_CODES, KernelError, type ProcessExit } from '../common';
import { NO_HOST_RESOURCES, type Host, type HostResources, type HostStart, type HostedProcess } from '../hosts';
import type { Link } from './link';
import { Nodes, type NodeGone, type NodeInfo } from './nodes';
import type { RemoteModule } from './protocol';
import { Session, type SessionDeps } from './session';
import { Tabs, newNodeId } from './tabs';

/** How a kernel takes part in remote mode. */
export interface RemoteOptions {
  /** Tabs meet only kernels of the same namespace (the kernel's database name: the same app). */
  namespace: string;
  /** A name for people (default `tab` and the first digits of the id). */
  name?: string;
  /** Find the other tabs of the app (default true). */
  tabs?: boolean;
}

/** What remote mode holds now (leak checks, the Nodes view). */
export interface RemoteResources {
  /** Nodes with a link up. */
  nodes: number;
  /** Processes this node runs on other nodes, and runs for them. */
  calls: number;
  served: number;
  /** Links that ended so far and the messages they left undelivered, summed. */
  linksLost: number;
  undelivered: number;
}

/** A kernel's remote mode: its node id, its links and sessions, its `remote` host; the kernel owns one. */
export class Remote {
  /** This node's id, for the kernel's life. */
  readonly id = newNodeId();
  readonly name: string;
  private readonly registry: Nodes;
  private readonly sessions = new Map<string, Session>();
  private readonly tabs: Tabs | undefined;
  /** The `remote` execution mode. */
  readonly host: Host;

  constructor(
    opts: RemoteOptions,
    private readonly deps: SessionDeps & { changed(gone?: NodeGone): void },
  ) {
    this.name = opts.name ?? `tab ${this.id.slice(0, 4)}`;
    this.registry = new Nodes(this.id, (gone) => deps.changed(gone));
    if (opts.tabs !== false && Tabs.available()) {
      this.tabs = new Tabs({ namespace: opts.namespace, id: this.id, name: this.name, onLink: (link) => this.attach(link) });
      void this.tabs.start();
    }
    this.host = {
      mode: 'remote',
      start: (req) => this.start(req),
      resources: (): HostResources => ({ ...NO_HOST_RESOURCES, processes: this.resources().calls }),
      dispose: () => {},
    };
  }

  /** Takes a link from a transport: the node it reaches is listed, and processes can run there. */
  attach(link: Link): void {
    if (this.sessions.get(link.peer)?.link === link) return;
    const session = new Session(link, this.deps);
    this.sessions.set(link.peer, session);
    void link.ended.then(() => {
      if (this.sessions.get(link.peer) === session) this.sessions.delete(link.peer);
    });
    this.registry.attach(link);
  }

  /** The nodes reachable now. */
  nodes(): NodeInfo[] {
    return this.registry.list();
  }

  /** Module `name` as node `node` has it; rejects with `remote/unknown-node`, `remote/not-installed`, `remote/link-lost`. */
  lookup(node: string, name: string): Promise<RemoteModule> {
    return this.session(node).caller.lookup(name);
  }

  /** Calls a service on node `node`; see `Caller.call`. Rejects also with `remote/unknown-node`. */
  call(node: string, module: string, fn: string, input: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return this.session(node).caller.call(module, fn, input, timeoutMs);
  }

  /** Sends module `name`'s package to node `node` to be installed there; see `Caller.carry`. */
  carry(node: string, name: string, pkg: Uint8Array): Promise<RemoteModule> {
    return this.session(node).caller.carry(name, pkg);
  }

  resources(): RemoteResources {
    let calls = 0;
    let served = 0;
    for (const s of this.sessions.values()) {
      calls += s.caller.size;
      served += s.server.size;
    }
    const lost = this.registry.losses();
    return { nodes: this.sessions.size, calls, served, linksLost: lost.links, undelivered: lost.undelivered };
  }

  /** Leaves: every link is closed, the other nodes see this one go. */
  dispose(): void {
    this.tabs?.dispose();
    this.registry.dispose();
  }

  private session(node: string): Session {
    const s = this.sessions.get(node);
    if (s === undefined) throw new KernelError('remote/unknown-node', `no node "${node}" is connected`, { node });
    return s;
  }

  private start(req: HostStart): HostedProcess {
    const s = req.node === undefined ? undefined : this.sessions.get(req.node);
    if (s !== undefined) return s.caller.spawn(req);
    // The link went between the spawn's checks and its start (or a restart found it gone).
    const end: ProcessExit = { code: EXIT_CODES['link-lost'], reason: 'link-lost', message: `node ${req.node ?? '(none)'} is not connected` };
    return { running: new Promise(() => {}), exited: Promise.resolve(end), kill: async () => {} };
  }
}
