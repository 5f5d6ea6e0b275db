/**
 * The caller's side of a remote process: it stands where a worker would, on the rings the kernel
 * gave the process. What the page writes to stdin goes over the link; what the other node sends
 * back is written into the stdout and stderr rings. Both directions are paced by credit (at most
 * WINDOW bytes of a stream unconsumed), so a reader that stops reading stops the writer at the
 * other end, as a pipe would.
 */
import { EXIT_CODES, KernelError, type ProcessExit } from '../common';
import type { HostStart, HostedProcess } from '../hosts';
import { Ring } from '../ipc';
import { BusBridge, type BusLike } from './bus-bridge';
import type { Link } from './link';
import { RemoteTag, type RemoteMessage, type RemoteModule, type RemoteUnsent } from './protocol';
import { ShownWindowRelay, type WindowsLike } from './windows';
import { toWire } from './snapshot-wire';

/** Bytes of one stream allowed on the way before the receiver took them. */
export const WINDOW = 1024 * 1024;
/** The smallest piece of credit reported (see Consumed). */
const CREDIT_BATCH = 64 * 1024;
/** Largest stdin chunk sent at once. */
const CHUNK = 256 * 1024;
/** How long past its deadline a call made on another node waits for that node's answer (its own deadline answers first). */
const CALL_GRACE_MS = 5000;
/** How long a kill waits for the other node to confirm before the process is ended here. */
const KILL_GRACE_MS = 3000;
/**
 * How long bus messages of a process that ended are still taken: the other node hears what it
 * published on its own bus, a little after the process may have ended and its exit was sent.
 */
export const LATE_BUS_MS = 1000;

/** Writes all of `data` into a ring, waiting for room; stops early once `over()`. */
export async function writeRing(ring: Ring, data: Uint8Array, over: () => boolean): Promise<void> {
  let done = 0;
  while (done < data.length) {
    if (ring.readerClosed || over()) return;
    const n = ring.write(done === 0 ? data : data.subarray(done));
    done += n;
    if (n === 0) await ring.writable();
  }
}

/**
 * Bytes a receiver took off the link, reported back as credit in pieces of at least CREDIT_BATCH:
 * small interactive messages then cost no credit message each, and a sender, with a window far
 * larger than what is left unreported, never waits for it.
 */
export class Consumed {
  private n = 0;

  /** Counts `bytes` taken; returns what to report now (0: nothing yet). */
  add(bytes: number): number {
    this.n += bytes;
    if (this.n < CREDIT_BATCH) return 0;
    const r = this.n;
    this.n = 0;
    return r;
  }
}

/** Credit for one stream: how many more bytes may be sent, and who waits for more. */
export class Credit {
  private left = WINDOW;
  private waiter: (() => void) | undefined;

  /** Resolves once `n` bytes may go (or at once when `over()`); takes them. */
  async take(n: number, over: () => boolean): Promise<void> {
    // A chunk larger than the window goes alone once nothing else is on the way.
    while (this.left < Math.min(n, WINDOW) && !over()) await new Promise<void>((ok) => (this.waiter = ok));
    this.left -= n;
  }

  give(n: number): void {
    this.left += n;
    this.wake();
  }

  /** Wakes a waiter without credit (the stream is over). */
  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** One remote process as its caller sees it. */
interface Call {
  start: HostStart;
  running: () => void;
  exit: (end: ProcessExit) => void;
  over: boolean;
  stdinCredit: Credit;
  /** Output written into the rings so far, per fd (1, 2): the exit waits for it. */
  written: [Promise<void>, Promise<void>];
  /** Its bus topics across the link, once it runs. */
  bridge?: BusBridge;
  /** Output bytes written into each ring (fd 1, 2) not yet reported as credit. */
  consumed: [Consumed, Consumed];
  /** Its window, shown here once the other node says it opened. */
  window?: ShownWindowRelay;
}

/** What the caller side needs of the kernel around it. */
export interface CallerDeps {
  /** This node's bus (page side), if it has one: remote processes' topics cross to and from it. */
  bus(): BusLike | undefined;
  /** The other node told the pid it runs the process under. */
  spawned(pid: number, node: string, remotePid: number): void;
  /** This node's windows, if it has them: a remote process's window shows here. */
  windows(): WindowsLike | undefined;
}

/** The processes this node runs on one other node, and its lookups there. */
export class Caller {
  private nextId = 1;
  private readonly calls = new Map<number, Call>();
  /** Bridges of processes that ended, kept open a moment for their last bus messages. */
  private readonly late = new Map<number, BusBridge>();
  private readonly lookups = new Map<number, { ok: (m: RemoteModule) => void; fail: (e: KernelError) => void }>();
  /** Service calls made there, waiting for their answer. */
  private readonly answers = new Map<number, { ok: (out: Uint8Array) => void; fail: (e: KernelError) => void }>();

  constructor(
    private readonly link: Link,
    private readonly send: (m: RemoteUnsent) => void,
    private readonly deps: CallerDeps,
  ) {}

  /** The module as the other node has it; rejects with `remote/not-installed`, `remote/link-lost`. */
  lookup(name: string): Promise<RemoteModule> {
    const id = this.nextId++;
    return new Promise((ok, fail) => {
      this.lookups.set(id, { ok, fail });
      this.send({ type: RemoteTag.lookup, id, name });
    });
  }

  /**
   * Sends module `name` (its package, as this node's registry keeps it) to the other node, which
   * installs it if the person there allows; resolves with it as installed there. Rejects with
   * `remote/refused`, `remote/link-lost`, or the code the install there failed with.
   */
  carry(name: string, pkg: Uint8Array): Promise<RemoteModule> {
    const id = this.nextId++;
    return new Promise((ok, fail) => {
      this.lookups.set(id, { ok, fail });
      this.send({ type: RemoteTag.carry, id, name, package: pkg });
    });
  }

  /**
   * Calls `fn` of service `module` there (its instance runs there, as that node's own calls'
   * do); resolves with the output. Rejects with the code the call failed with there,
   * `remote/refused`, `remote/link-lost`, or `kernel/timeout` if no answer comes a while after
   * its deadline.
   */
  call(module: string, fn: string, input: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const id = this.nextId++;
    return new Promise<Uint8Array>((ok, fail) => {
      const timer = setTimeout(() => {
        this.answers.delete(id);
        fail(new KernelError('kernel/timeout', `${module}.${fn} on node ${this.link.peer} did not answer within its deadline`, { name: module, fn, node: this.link.peer }));
      }, timeoutMs + CALL_GRACE_MS);
      const settle = (): void => {
        clearTimeout(timer);
        this.answers.delete(id);
      };
      this.answers.set(id, {
        ok: (out) => (settle(), ok(out)),
        fail: (e) => (settle(), fail(e)),
      });
      try {
        this.send({ type: RemoteTag.call, id, module, fn, input, timeoutMs });
      } catch (e) {
        this.answers.get(id)?.fail(KernelError.from(e));
      }
    });
  }

  /** Starts the process there; its ends are the rings of `start`. */
  spawn(start: HostStart): HostedProcess {
    const id = this.nextId++;
    let running!: () => void;
    let exit!: (end: ProcessExit) => void;
    const runningP = new Promise<void>((ok) => (running = ok));
    const exited = new Promise<ProcessExit>((ok) => (exit = ok));
    const call: Call = { start, running, exit, over: false, stdinCredit: new Credit(), written: [Promise.resolve(), Promise.resolve()], consumed: [new Consumed(), new Consumed()] };
    this.calls.set(id, call);
    try {
      this.send({
        type: RemoteTag.spawn,
        id,
        spawn: {
          name: start.name,
          pid: start.pid,
          args: start.args.slice(1),
          env: start.env,
          tty: start.tty,
          preopens: start.preopens,
          files: start.files,
          // A process moved there (`setMode`): it goes on from its snapshot.
          ...(start.migrate?.resume !== undefined ? { resume: { sha256: start.program.sha256, snapshot: toWire(start.migrate.resume) } } : {}),
        },
      });
    } catch (e) {
      // A message the link cannot carry (a moved process's snapshot past a device link's frame) fails the start.
      if (e instanceof KernelError && e.code !== 'remote/link-lost') this.end(id, { code: EXIT_CODES.failed, reason: 'failed', message: `${e.code}: ${e.message}` });
      // The link ended since the spawn was checked: the process ends as every other on it did.
      else this.end(id, { code: EXIT_CODES['link-lost'], reason: 'link-lost', message: `the link to node ${this.link.peer} was lost` });
    }
    void exited.then(() => {
      call.over = true;
      call.stdinCredit.wake();
      const bridge = call.bridge;
      if (bridge !== undefined) {
        this.late.set(id, bridge);
        setTimeout(() => {
          bridge.close();
          this.late.delete(id);
        }, LATE_BUS_MS);
      }
      this.calls.delete(id);
    });
    return {
      running: runningP,
      exited,
      kill: async (end) => {
        if (!call.over) {
          this.trySend({ type: RemoteTag.kill, id });
          // The other node answers with its exit; a node that does not is not waited on forever.
          const timer = setTimeout(() => this.end(id, end ?? { code: EXIT_CODES.killed, reason: 'killed', message: 'killed (the other node did not confirm)' }), KILL_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }
      },
    };
  }

  /** A message for the caller side. */
  receive(m: RemoteMessage): void {
    if (m.type === RemoteTag.found || (m.type === RemoteTag.fail && this.lookups.has(m.id))) {
      const l = this.lookups.get(m.id);
      this.lookups.delete(m.id);
      if (m.type === RemoteTag.found) l?.ok(m.module);
      else if (m.type === RemoteTag.fail) l?.fail(new KernelError(m.error.code, m.error.message, { ...m.error.details, node: this.link.peer }));
      return;
    }
    if (m.type === RemoteTag.called || (m.type === RemoteTag.fail && this.answers.has(m.id))) {
      const a = this.answers.get(m.id);
      if (m.type === RemoteTag.called) a?.ok(m.output);
      else if (m.type === RemoteTag.fail) a?.fail(new KernelError(m.error.code, m.error.message, { ...m.error.details, node: this.link.peer }));
      return;
    }
    if (m.type === RemoteTag.error) return;
    if (m.type === RemoteTag.busOut && !this.calls.has(m.id)) {
      this.late.get(m.id)?.deliver(m.topic, m.data);
      return;
    }
    const call = this.calls.get(m.id);
    if (call === undefined) return;
    switch (m.type) {
      case RemoteTag.spawned:
        this.deps.spawned(call.start.pid, this.link.peer, m.pid);
        this.bridge(m.id, call, m.subscribe);
        call.running();
        void this.pumpStdin(m.id, call);
        return;
      case RemoteTag.fail:
        this.end(m.id, { code: EXIT_CODES.failed, reason: 'failed', message: `${m.error.code}: ${m.error.message}` });
        return;
      case RemoteTag.out: {
        const i = m.fd - 1;
        const ring = new Ring(m.fd === 1 ? call.start.stdout : call.start.stderr);
        const before = call.written[i] ?? Promise.resolve();
        call.written[i] = before.then(async () => {
          await writeRing(ring, m.data, () => call.over);
          const bytes = call.consumed[i]?.add(m.data.length) ?? 0;
          if (bytes > 0) this.trySend({ type: RemoteTag.credit, id: m.id, fd: m.fd, bytes });
        });
        return;
      }
      case RemoteTag.credit:
        if (m.fd === 0) call.stdinCredit.give(m.bytes);
        return;
      case RemoteTag.busOut:
        call.bridge?.deliver(m.topic, m.data);
        return;
      case RemoteTag.winOpen:
        this.windowOf(m.id, call).open(m.width, m.height);
        return;
      case RemoteTag.winFrame:
        this.windowOf(m.id, call).frame(m.data, m.width, m.height);
        return;
      case RemoteTag.winClose:
        call.window?.close();
        return;
      case RemoteTag.exit: {
        const end: ProcessExit = { code: m.code, reason: m.reason, ...(m.message !== undefined ? { message: m.message } : {}) };
        // Everything it printed is in the rings before its end is told.
        void Promise.all(call.written).then(() => this.end(m.id, end));
        return;
      }
      default:
        return;
    }
  }

  /** The link ended: every process on it ends for its caller with `link-lost`. */
  lost(undelivered: number): void {
    const why = `the link to node ${this.link.peer} was lost${undelivered > 0 ? ` (${undelivered} messages undelivered)` : ''}`;
    for (const l of this.lookups.values()) l.fail(new KernelError('remote/link-lost', why, { node: this.link.peer, undelivered }));
    this.lookups.clear();
    for (const a of [...this.answers.values()]) a.fail(new KernelError('remote/link-lost', why, { node: this.link.peer, undelivered }));
    for (const b of this.late.values()) b.close();
    this.late.clear();
    for (const id of [...this.calls.keys()]) this.end(id, { code: EXIT_CODES['link-lost'], reason: 'link-lost', message: why });
  }

  /** Remote processes running now. */
  get size(): number {
    return this.calls.size;
  }

  private end(id: number, end: ProcessExit): void {
    const call = this.calls.get(id);
    if (call === undefined || call.over) return;
    call.over = true;
    call.exit(end);
  }

  /** The relay of its window: input goes back, each frame shown is acknowledged. */
  private windowOf(id: number, call: Call): ShownWindowRelay {
    call.window ??= new ShownWindowRelay(
      this.deps.windows(),
      call.start.pid,
      this.link.peer,
      (event) => this.trySend({ type: RemoteTag.winInput, id, event }),
      () => this.trySend({ type: RemoteTag.winAck, id }),
    );
    return call.window;
  }

  /** What it may subscribe to (its grants where it runs) is heard here and sent to it. */
  private bridge(id: number, call: Call, subscribe: string[]): void {
    const bus = this.deps.bus();
    if (bus === undefined) return;
    call.bridge = new BusBridge(bus, (topic, data) => this.trySend({ type: RemoteTag.busIn, id, topic, data }));
    call.bridge.listen(subscribe);
  }

  /** Moves what the page writes to stdin over the link, within the credit the other node gives. */
  private async pumpStdin(id: number, call: Call): Promise<void> {
    const ring = new Ring(call.start.stdin);
    const over = (): boolean => call.over;
    for (;;) {
      if (over()) return;
      const chunk = ring.readChunk(CHUNK);
      if (chunk !== null) {
        await call.stdinCredit.take(chunk.length, over);
        await this.link.writable();
        if (over()) return;
        this.trySend({ type: RemoteTag.in, id, data: chunk });
        continue;
      }
      if ((await ring.readableWhileOpen()) === 'closed' && ring.available() === 0) {
        if (!over() && ring.writerClosed) this.trySend({ type: RemoteTag.inEnd, id });
        return;
      }
    }
  }

  private trySend(m: RemoteUnsent): void {
    try {
      this.send(m);
    } catch {
      // The link has ended: `lost` ends the process and reports what was undelivered.
    }
  }
}
