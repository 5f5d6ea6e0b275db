/**
 * The side of a remote process on the node that runs it: the process is an ordinary local one
 * (the kernel spawns it and lists it with the caller's node), and this side moves its stdio over
 * the link, paced by the caller's credit, and tells how it ended once all its output is sent.
 */
import { KernelError, type ExitReason } from '../common';
import { Consumed, Credit, LATE_BUS_MS } from './caller';
import { BusBridge, type BusLike } from './bus-bridge';
import type { Link } from './link';
import { RemoteTag, type RemoteMessage, type RemoteModule, type RemoteUnsent, type SpawnRequest } from './protocol';
import { SharedWindow, type WindowsLike } from './windows';

/** A local process run for another node. */
export interface ServedProcess {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exit: Promise<number>;
  kill(): Promise<void>;
  /** The topic patterns it was granted here: what it publishes crosses to the caller, what it subscribes to comes from there. */
  readonly grants: { publish: string[]; subscribe: string[] };
}

/** What the serving side needs of the kernel around it. */
export interface ServeDeps {
  /** This node's bus (page side), if it has one. */
  bus(): BusLike | undefined;
  /** The module, if installed here and runnable for another node. */
  lookup(name: string): Promise<RemoteModule | undefined>;
  /**
   * Whether the node at the other end of `link` may run `module` here (it may ask the person);
   * rejects `remote/refused`. Asked at the lookup that precedes a spawn (so the caller's spawn
   * rejects with the refusal), and again at the spawn, which a yes at the lookup lets through once.
   */
  admit(link: Link, module: string, at: 'lookup' | 'spawn' | 'install', bytes?: number): Promise<void>;
  /**
   * Installs a module another node sent (its package), once `admit` allowed it; resolves with
   * module `name` as installed, or rejects (`remote/not-installed` if the package lacks it).
   */
  install(name: string, pkg: Uint8Array): Promise<RemoteModule>;
  /** This node's windows, if it has them: a served process's window is shown on its caller. */
  windows(): WindowsLike | undefined;
  /** Runs it here for node `node`; rejects with a KernelError. */
  spawn(req: SpawnRequest, node: string): Promise<ServedProcess>;
  /** Calls a service here for the other node, as this node's page would. */
  call(module: string, fn: string, input: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** How process `pid` ended, once it has. */
  ended(pid: number): { reason: ExitReason; message?: string } | undefined;
}

interface Served {
  /** Settles once the process exists (rejects if it could not start). */
  proc: Promise<ServedProcess>;
  /** Stdin writes, in order, after the process exists. */
  stdin: Promise<unknown>;
  credit: { 1: Credit; 2: Credit };
  /** Stdin bytes written to the process not yet reported as credit. */
  consumed: Consumed;
  over: boolean;
  bridge?: BusBridge;
  window?: SharedWindow;
}

/** The processes this node runs for one other node. */
export class Server {
  private readonly served = new Map<number, Served>();

  constructor(
    private readonly link: Link,
    private readonly send: (m: RemoteUnsent) => void,
    private readonly deps: ServeDeps,
  ) {}

  /** A message for the serving side. */
  receive(m: RemoteMessage): void {
    switch (m.type) {
      case RemoteTag.lookup:
        void this.lookup(m.id, m.name);
        return;
      case RemoteTag.spawn:
        if (!this.served.has(m.id)) this.spawn(m.id, m.spawn);
        return;
      case RemoteTag.in: {
        const s = this.served.get(m.id);
        if (s === undefined) return;
        const { data, id } = m;
        s.stdin = s.stdin.then(async (w) => {
          await (w as WritableStreamDefaultWriter<Uint8Array>).write(data);
          const bytes = s.consumed.add(data.length);
          if (bytes > 0) this.trySend({ type: RemoteTag.credit, id, fd: 0, bytes });
          return w;
        });
        s.stdin.catch(() => {});
        return;
      }
      case RemoteTag.inEnd: {
        const s = this.served.get(m.id);
        if (s !== undefined) s.stdin = s.stdin.then((w) => (w as WritableStreamDefaultWriter<Uint8Array>).close());
        s?.stdin.catch(() => {});
        return;
      }
      case RemoteTag.credit: {
        const s = this.served.get(m.id);
        if (s !== undefined && m.fd !== 0) s.credit[m.fd].give(m.bytes);
        return;
      }
      case RemoteTag.busIn:
        this.served.get(m.id)?.bridge?.deliver(m.topic, m.data);
        return;
      case RemoteTag.carry:
        void this.carry(m.id, m.name, m.package);
        return;
      case RemoteTag.call:
        void this.call(m.id, m.module, m.fn, m.input, m.timeoutMs);
        return;
      case RemoteTag.winAck:
        this.served.get(m.id)?.window?.ack();
        return;
      case RemoteTag.winInput:
        this.served.get(m.id)?.window?.input(m.event);
        return;
      case RemoteTag.kill:
        void this.served.get(m.id)?.proc.then((p) => p.kill()).catch(() => {});
        return;
      default:
        return;
    }
  }

  /** The link ended: nobody is there to read what these processes print; they are ended. */
  lost(): void {
    for (const s of this.served.values()) {
      s.over = true;
      s.credit[1].wake();
      s.credit[2].wake();
      s.bridge?.close();
      s.window?.stop();
      void s.proc.then((p) => p.kill()).catch(() => {});
    }
    this.served.clear();
  }

  /** Processes running here for the other node. */
  get size(): number {
    return this.served.size;
  }

  private async lookup(id: number, name: string): Promise<void> {
    try {
      const module = await this.deps.lookup(name);
      if (module === undefined) throw new KernelError('remote/not-installed', `"${name}" is not installed on the node asked`, { name });
      await this.deps.admit(this.link, name, 'lookup');
      this.trySend({ type: RemoteTag.found, id, module });
    } catch (e) {
      this.trySend({ type: RemoteTag.fail, id, error: KernelError.from(e).toJSON() });
    }
  }

  /** A module sent along: installed if the person here allows it (devices), then described as a lookup is. */
  private async carry(id: number, name: string, pkg: Uint8Array): Promise<void> {
    try {
      let module = await this.deps.lookup(name);
      if (module === undefined) {
        await this.deps.admit(this.link, name, 'install', pkg.length);
        module = await this.deps.install(name, pkg);
      } else {
        // Installed meanwhile (another tab, another node): asked as any lookup is.
        await this.deps.admit(this.link, name, 'lookup');
      }
      this.trySend({ type: RemoteTag.found, id, module });
    } catch (e) {
      this.trySend({ type: RemoteTag.fail, id, error: KernelError.from(e).toJSON() });
    }
  }

  /** A service call for the other node: asked as a lookup is (a device's person says yes first), then made here. */
  private async call(id: number, module: string, fn: string, input: Uint8Array, timeoutMs: number): Promise<void> {
    try {
      await this.deps.admit(this.link, module, 'lookup');
      const output = await this.deps.call(module, fn, input, timeoutMs);
      this.trySend({ type: RemoteTag.called, id, output });
    } catch (e) {
      this.trySend({ type: RemoteTag.fail, id, error: KernelError.from(e).toJSON() });
    }
  }

  private spawn(id: number, req: SpawnRequest): void {
    const proc = this.deps.admit(this.link, req.name, 'spawn').then(() => this.deps.spawn(req, this.link.peer));
    const s: Served = { proc, stdin: proc.then((p) => p.stdin.getWriter()), credit: { 1: new Credit(), 2: new Credit() }, consumed: new Consumed(), over: false };
    s.stdin.catch(() => {});
    this.served.set(id, s);
    proc.then(
      (p) => {
        const bus = this.deps.bus();
        if (bus !== undefined) {
          s.bridge = new BusBridge(bus, (topic, data) => this.trySend({ type: RemoteTag.busOut, id, topic, data }));
          s.bridge.listen(p.grants.publish);
        }
        const windows = this.deps.windows();
        if (windows !== undefined && !s.over) s.window = new SharedWindow(windows, p.pid, (w) => this.trySend({ ...w, id }));
        this.trySend({ type: RemoteTag.spawned, id, pid: p.pid, subscribe: p.grants.subscribe });
        void this.run(id, s, p);
      },
      (e: unknown) => {
        this.served.delete(id);
        const err = e instanceof KernelError ? e : new KernelError('kernel/spawn-failed', e instanceof Error ? e.message : String(e));
        this.trySend({ type: RemoteTag.fail, id, error: err.toJSON() });
      },
    );
  }

  /** Sends its output as it comes, then its end. */
  private async run(id: number, s: Served, p: ServedProcess): Promise<void> {
    const [code] = await Promise.all([p.exit, this.pump(id, s, p.stdout, 1), this.pump(id, s, p.stderr, 2)]);
    // What it published just before it ended is still on its way through this node's bus.
    const bridge = s.bridge;
    if (bridge !== undefined) setTimeout(() => bridge.close(), LATE_BUS_MS);
    s.window?.stop();
    if (s.over) return;
    this.served.delete(id);
    const how = this.deps.ended(p.pid) ?? { reason: 'exited' as const };
    this.trySend({ type: RemoteTag.exit, id, code, reason: how.reason, ...(how.message !== undefined ? { message: how.message } : {}) });
  }

  private async pump(id: number, s: Served, stream: ReadableStream<Uint8Array>, fd: 1 | 2): Promise<void> {
    const reader = stream.getReader();
    const over = (): boolean => s.over;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        await s.credit[fd].take(value.length, over);
        await this.link.writable();
        if (over()) break;
        this.trySend({ type: RemoteTag.out, id, fd, data: value });
      }
    } catch {
      return;
    }
    await reader.cancel().catch(() => {});
  }

  /** Sends `m`; false if the link could not take it. */
  private trySend(m: RemoteUnsent): boolean {
    try {
      this.send(m);
      return true;
    } catch {
      // The link has ended (`lost` ends what runs for it), or the message is past its size.
      return false;
    }
  }
}
