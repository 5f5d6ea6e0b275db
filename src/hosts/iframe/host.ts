/**
 * The `iframe` execution mode: each process runs in a worker inside one sandboxed,
 * opaque-origin container frame (container.ts), kept for every later start like the worker
 * mode's warm pool. The frame cannot share memory with the page, so this host relays between the
 * kernel's rings and the frame: stdin and output as chunks with acknowledgements (a full ring on
 * either side holds the other back), calls as messages. Everything from the frame is parsed as
 * untrusted; a container that sends something malformed is torn down and its processes end.
 * A service's calls go in as `serve` messages and come back as `served` (ADR 0032); a call past
 * its deadline ends the start, which terminates its worker in the frame, whatever it computes.
 */
import { EXIT_CODES, KernelError, type ProcessExit } from '../../common';
import {
  BusArena,
  EVENT_WORDS,
  EventRing,
  FRAME_PROTOCOL,
  GfxCall,
  FromFrame,
  ReplyBy,
  Ring,
  ToFrame,
  parseFromFrame,
  type BusDelivery,
  type FrameStart,
  type FromFrameMessage,
  type ToFrameMessage,
} from '../../ipc';
import type { Host, HostResources, HostStart, HostedProcess } from '../types';
import { CONTAINER_TITLE, openContainer, type Container } from './container';

/** How long one subscription is drained before other page tasks run. */
const DRAIN_BUDGET_MS = 4;
/** Messages sent into the frame in one postMessage, at most. */
const BUS_BATCH = 256;

/** Resolves in a later task, unclamped (a nested `setTimeout(0)` waits 4 ms). */
function nextTask(): Promise<void> {
  return new Promise((ok) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      ok();
    };
    port2.postMessage(null);
  });
}

/** Stdin bytes the frame may hold unacknowledged. */
const STDIN_WINDOW = 512 * 1024;
const STDIN_CHUNK = 256 * 1024;

/** One start, page side: the kernel's rings and the relays to the frame. */
class PageProcess {
  private readonly outChains: Record<1 | 2, Promise<void>> = { 1: Promise.resolve(), 2: Promise.resolve() };
  private stdinInFlight = 0;
  private stdinWake: (() => void) | null = null;
  /** Set once the kernel asked it to park: stdin stays in the kernel's ring for the next start. */
  private parking = false;
  /** Bumped when stdin stops or starts flowing again: a pump of an older generation stops. */
  private pumpGen = 0;
  /** Service calls sent into the frame and not answered yet, by id. */
  private readonly serving = new Map<number, { ok: (out: Uint8Array) => void; fail: (e: KernelError) => void }>();
  private nextServe = 1;
  /** The frame said the process runs: calls may go in. */
  started = false;
  dead = false;

  constructor(
    readonly sid: number,
    readonly req: HostStart,
    private readonly send: (msg: ToFrameMessage, transfer?: Transferable[]) => void,
    readonly running: () => void,
    private readonly exit: (e: ProcessExit) => void,
  ) {
    void this.pumpStdin();
  }

  /** A message from the frame about this start. */
  handle(msg: FromFrameMessage): void {
    if (this.dead) return;
    switch (msg.type) {
      case FromFrame.running:
        this.started = true;
        this.running();
        return;
      case FromFrame.served: {
        const waiting = this.serving.get(msg.id);
        this.serving.delete(msg.id);
        if (msg.ok && msg.output !== undefined) waiting?.ok(msg.output);
        else waiting?.fail(KernelError.from(msg.error));
        return;
      }
      case FromFrame.out: {
        const { fd, data } = msg;
        this.outChains[fd] = this.outChains[fd].then(() => this.output(fd, data));
        return;
      }
      case FromFrame.stdinAck:
        this.stdinInFlight = Math.max(0, this.stdinInFlight - msg.bytes);
        this.stdinWake?.();
        return;
      case FromFrame.call:
        this.call(msg.id, msg.call, msg.args, msg.reply);
        return;
      case FromFrame.exited: {
        const end: ProcessExit = { code: msg.code, reason: msg.reason, ...(msg.message !== undefined ? { message: msg.message } : {}) };
        // All output the frame sent before its exit goes into the rings first.
        void Promise.all([this.outChains[1], this.outChains[2]]).then(() => this.end(end));
        return;
      }
      default:
    }
  }

  /** Asks the frame to park it (a migratable process): stdin stops flowing in first. Or withdraws that. */
  park(on: boolean): void {
    if (this.dead || this.parking === on) return;
    this.parking = on;
    this.pumpGen += 1;
    this.send({ v: FRAME_PROTOCOL, type: on ? ToFrame.park : ToFrame.unpark, sid: this.sid });
    if (!on) void this.pumpStdin();
  }

  /** Sends one service call into the frame; it settles with the frame's answer, or with this start's end. */
  serve(fn: string, input: Uint8Array, until: number | undefined): Promise<Uint8Array> {
    return new Promise((ok, fail) => {
      if (this.dead || !this.started) {
        fail(new KernelError('service/error', 'the service is not running'));
        return;
      }
      const id = this.nextServe++;
      this.serving.set(id, { ok, fail });
      this.send({ v: FRAME_PROTOCOL, type: ToFrame.serve, sid: this.sid, id, fn, input, ...(until !== undefined ? { until } : {}) });
    });
  }

  /** Ends this start now (a kill, or the container gone); the frame is told to stop it. */
  end(e: ProcessExit, tellFrame = false): void {
    if (this.dead) return;
    this.dead = true;
    for (const s of this.serving.values()) s.fail(new KernelError('service/error', `the service ended (${e.reason}${e.message !== undefined ? `: ${e.message}` : ''})`, { reason: e.reason }));
    this.serving.clear();
    this.stdinWake?.();
    if (tellFrame) this.send({ v: FRAME_PROTOCOL, type: ToFrame.kill, sid: this.sid });
    this.exit(e);
  }

  /** Writes a chunk of output into the kernel's ring as room appears, then acknowledges it. */
  private async output(fd: 1 | 2, data: Uint8Array): Promise<void> {
    const ring = new Ring(fd === 1 ? this.req.stdout : this.req.stderr);
    let done = 0;
    while (done < data.length && !this.dead) {
      if (ring.readerClosed) {
        this.send({ v: FRAME_PROTOCOL, type: ToFrame.readerGone, sid: this.sid, fd });
        break;
      }
      const n = ring.write(done === 0 ? data : data.subarray(done));
      done += n;
      if (n === 0) await ring.writable();
    }
    if (!this.dead) this.send({ v: FRAME_PROTOCOL, type: ToFrame.ack, sid: this.sid, fd, bytes: data.length });
  }

  /** Moves the kernel's stdin ring into the frame, a window at a time, then its end of file. */
  private async pumpStdin(): Promise<void> {
    const ring = new Ring(this.req.stdin);
    const gen = this.pumpGen;
    while (!this.dead) {
      while (this.stdinInFlight >= STDIN_WINDOW && !this.dead) await new Promise<void>((ok) => (this.stdinWake = ok));
      if (this.dead || this.parking || gen !== this.pumpGen) return;
      const chunk = ring.readChunk(Math.min(STDIN_CHUNK, STDIN_WINDOW - this.stdinInFlight));
      if (chunk !== null) {
        this.stdinInFlight += chunk.length;
        this.send({ v: FRAME_PROTOCOL, type: ToFrame.stdin, sid: this.sid, data: chunk }, [chunk.buffer]);
        continue;
      }
      if ((await ring.readableWhileOpen()) === 'closed' && ring.available() === 0 && !this.parking) {
        // End of file only when the writer closed it, not when the kernel closed the reader.
        if (!this.dead && ring.writerClosed) this.send({ v: FRAME_PROTOCOL, type: ToFrame.stdinEnd, sid: this.sid });
        return;
      }
    }
  }

  /**
   * Forwards what reaches one of this process's subscriptions in the kernel's arena to the frame,
   * which mirrors it in an arena of its own. Stops with this start; a subscription kept for a
   * restart queues in the kernel's arena until the next start subscribes again.
   */
  private relay({ slot, gen }: { slot: number; gen: number }): void {
    const sab = this.req.shared.bus;
    if (sab === undefined) return;
    const arena = new BusArena(sab);
    void (async () => {
      while (!this.dead && arena.isOpen(slot, gen)) {
        const seen = arena.doorbell(slot);
        const until = performance.now() + DRAIN_BUDGET_MS;
        let frame = null;
        let more = false;
        // What has queued goes in batches: one message into the frame carries many.
        while (!this.dead && performance.now() < until) {
          const batch: BusDelivery[] = [];
          while (batch.length < BUS_BATCH && (frame = arena.takeFrame(slot)) !== null) batch.push({ topic: frame.topic, data: frame.data, from: frame.pid });
          if (batch.length === 0) break;
          this.send({ v: FRAME_PROTOCOL, type: ToFrame.bus, sid: this.sid, slot, messages: batch }, batch.map((d) => d.data.buffer));
          more = frame !== null;
          if (!more) break;
        }
        if (more) await nextTask();
        else await arena.waitDoorbellAsync(slot, seen);
      }
    })();
  }

  /**
   * A window opened for this process: the frame gets its id and size (its input ring cannot
   * cross), and the input queued for it is forwarded as it comes, then its closing.
   */
  private openWindow(value: unknown, answer: (ok: boolean, value: unknown) => void): void {
    const v = value as { id: number; width: number; height: number; events?: unknown };
    const ring = EventRing.from(v.events);
    answer(true, { id: v.id, width: v.width, height: v.height });
    if (ring === null) return;
    void (async () => {
      while (!this.dead) {
        const records: number[] = [];
        ring.take(ring.capacity, (rec) => records.push(...rec.subarray(0, EVENT_WORDS)));
        const closed = ring.closed && ring.available() === 0;
        if (records.length > 0 || closed) {
          const events = Int32Array.from(records);
          this.send({ v: FRAME_PROTOCOL, type: ToFrame.input, sid: this.sid, window: v.id, events, closed }, [events.buffer]);
        }
        if (closed) return;
        await ring.whenAvailable();
      }
    })();
  }

  private call(id: number, call: string, args: unknown, reply: string): void {
    const answer = (ok: boolean, value: unknown): void => {
      if (this.dead || reply === ReplyBy.none) return;
      const base = { v: FRAME_PROTOCOL, type: ToFrame.reply, sid: this.sid, id, ok } as const;
      this.send(ok ? { ...base, value } : { ...base, error: KernelError.from(value).toJSON() });
    };
    this.req.onCall(call, args).then(
      (r) => {
        // Objects to transfer (a canvas) must never be sent into an out-of-process frame.
        if (r.transfer !== undefined && r.transfer.length > 0) {
          answer(false, new KernelError('kernel/unsupported', `"${call}" is not available in iframe mode`));
          return;
        }
        if (call === GfxCall.open) {
          this.openWindow(r.value, answer);
          return;
        }
        answer(true, r.value);
        // After the answer: the frame makes its mirror of the subscription from it, and a kept
        // subscription may already hold messages.
        if (call === 'bus.subscribe') this.relay(r.value as { slot: number; gen: number });
      },
      (e: unknown) => answer(false, e instanceof KernelError ? e : { code: 'ipc/malformed', message: String(e) }),
    );
  }
}

export class IframeHost implements Host {
  readonly mode = 'iframe' as const;
  private container: Promise<Container> | null = null;
  /** The container once it has booted, until it is removed. */
  private opened: Container | undefined;
  private readonly starts = new Map<number, PageProcess>();
  /** Content hashes the current container has compiled (their bytes are not sent again). */
  private sent = new Set<string>();
  private nextSid = 1;

  constructor(private readonly parent: HTMLElement = document.body) {}

  start(req: HostStart): HostedProcess {
    const sid = this.nextSid++;
    let running!: () => void;
    let exit!: (e: ProcessExit) => void;
    const runningP = new Promise<void>((ok) => (running = ok));
    const exited = new Promise<ProcessExit>((ok) => (exit = ok));
    let proc: PageProcess | undefined;
    const ended = (e: ProcessExit): void => {
      this.starts.delete(sid);
      exit(e);
    };
    void this.open().then(
      (c) => {
        // The start goes first: the new process's stdin pump may send at once.
        c.port.postMessage(this.startMessage(sid, req));
        proc = new PageProcess(sid, req, (m, t) => c.port.postMessage(m, t ?? []), running, ended);
        this.starts.set(sid, proc);
      },
      (e: unknown) => ended({ code: EXIT_CODES.failed, reason: 'failed', message: KernelError.from(e).message }),
    );
    return {
      running: runningP,
      exited,
      kill: async (end = { code: EXIT_CODES.killed, reason: 'killed', message: 'killed' }) => {
        if (proc !== undefined) proc.end(end, true);
        await exited;
      },
      ...(req.migrate !== undefined ? { park: (on: boolean) => proc?.park(on) } : {}),
      ...(req.serve === true
        ? { serve: (fn: string, input: Uint8Array, until?: number) => proc?.serve(fn, input, until) ?? Promise.reject(new KernelError('service/error', 'the service is not running')) }
        : {}),
    };
  }

  resources(): HostResources {
    const frames = [...this.parent.querySelectorAll('iframe')].filter((f) => f.title === CONTAINER_TITLE).length;
    return { processes: this.starts.size, busyWorkers: 0, idleWorkers: 0, booting: 0, waiting: 0, frames, ports: this.opened !== undefined ? 1 : 0, blobUrls: 0, timers: 0 };
  }

  dispose(): void {
    for (const p of [...this.starts.values()]) p.end({ code: EXIT_CODES.killed, reason: 'killed', message: 'kernel disposed' });
    void this.container?.then((c) => this.remove(c)).catch(() => {});
    this.container = null;
  }

  /** Removes a container and closes the port to it. */
  private remove(c: Container): void {
    c.port.onmessage = null;
    c.port.close();
    c.frame.remove();
    if (this.opened === c) this.opened = undefined;
  }

  private open(): Promise<Container> {
    if (this.container === null) {
      const opening = openContainer(this.parent).then((c) => {
        c.port.onmessage = (e: MessageEvent<unknown>) => this.fromFrame(c, e.data);
        this.opened = c;
        return c;
      });
      this.container = opening;
      this.sent = new Set();
      opening.catch(() => {
        if (this.container === opening) this.container = null;
      });
    }
    return this.container;
  }

  private startMessage(sid: number, req: HostStart): FrameStart {
    const p = req.program;
    const sendCode = !this.sent.has(p.sha256);
    this.sent.add(p.sha256);
    return {
      v: FRAME_PROTOCOL,
      type: ToFrame.start,
      sid,
      pid: req.pid,
      name: req.name,
      sha256: p.sha256,
      ...(p.kind === 'wasm' ? { maxPages: p.maxPages, ...(sendCode ? { bytes: p.bytes } : {}) } : { maxPages: 0, script: p.script }),
      args: req.args,
      env: req.env,
      preopens: req.preopens,
      files: req.files,
      tty: req.tty,
      stdoutIsPipe: req.stdoutIsPipe,
      grants: req.grants,
      ...(req.watchdogMs !== undefined ? { watchdogMs: req.watchdogMs } : {}),
      ...(req.migrate !== undefined ? { migrate: req.migrate.resume !== undefined ? { resume: req.migrate.resume } : {} } : {}),
      ...(req.serve === true ? { serve: true, serviceConfig: req.serviceConfig ?? {}, extism: limits(req) } : {}),
      rings: { stdin: new Ring(req.stdin).capacity, stdout: new Ring(req.stdout).capacity, stderr: new Ring(req.stderr).capacity },
    };
  }

  private fromFrame(c: Container, data: unknown): void {
    let msg: FromFrameMessage;
    try {
      msg = parseFromFrame(data);
    } catch (e) {
      this.teardown(c, `the container sent a malformed message: ${KernelError.from(e).message}`);
      return;
    }
    if (msg.type === FromFrame.error) {
      console.error('the iframe container refused a message', msg.error);
      return;
    }
    if (msg.type === FromFrame.ready) return;
    this.starts.get(msg.sid)?.handle(msg);
  }

  /** Ends every process of a container that can no longer be trusted, and removes it. */
  private teardown(c: Container, message: string): void {
    for (const p of [...this.starts.values()]) p.end({ code: EXIT_CODES.crashed, reason: 'crashed', message });
    this.remove(c);
    this.container = null;
  }
}

/** A service's Extism limits, and its linked modules as bytes (a compiled module cannot be posted into the frame). */
function limits(req: HostStart): NonNullable<FrameStart['extism']> {
  const e = req.extism;
  // One without bytes is left out: the plugin then fails to link in the frame, a failed start.
  const linked = (e?.linked ?? []).flatMap((l) => (l.bytes !== undefined ? [{ name: l.name, bytes: l.bytes }] : []));
  return {
    ...(e?.maxBytes !== undefined ? { maxBytes: e.maxBytes } : {}),
    ...(e?.maxVarBytes !== undefined ? { maxVarBytes: e.maxVarBytes } : {}),
    ...(linked.length > 0 ? { linked } : {}),
  };
}
