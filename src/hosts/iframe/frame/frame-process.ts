/**
 * One process inside the container frame: a worker of the frame running the process runtime on
 * rings of the frame's own, and the relays between those rings and the page. Output goes to the
 * page in chunks, at most `WINDOW` bytes unacknowledged, so a page that stops reading holds the
 * module back as a full ring would; stdin arrives in chunks and is acknowledged once in the ring.
 * The process's exit is reported only after its output is sent.
 */
import { EXIT_CODES, KernelError, type ProcessExit } from '../../../common';
import {
  BUS_LIMITS,
  BusArena,
  EVENT_CAPACITY,
  EVENT_WORDS,
  EventRing,
  FRAME_PROTOCOL,
  InboxSpace,
  FromFrame,
  MigrateControl,
  FromWorker,
  GfxCall,
  ReplyBy,
  Ring,
  ToWorker,
  WORKER_PROTOCOL,
  WatchReader,
  allocateBusArena,
  allocateEventRing,
  allocateRing,
  allocateSyncCall,
  allocateWatch,
  answerSyncCall,
  markKilled,
  parseFromWorker,
  type FrameStart,
  type FromFrameMessage,
  type ServeMessage,
  type StartMessage,
  type ToFrameMessage,
} from '../../../ipc';
import { watchdog } from '../../watchdog';
import type { FrameWorkers } from './frame-workers';

/** Output bytes the page may hold unacknowledged, per stream. */
const WINDOW = 512 * 1024;
/** Largest output chunk per message. */
const CHUNK = 256 * 1024;

type Post = (msg: FromFrameMessage, transfer?: Transferable[]) => void;

/**
 * A process's own bus arena in the frame: its subscriptions mirrored, filled by the page. One per
 * process, never shared: module code in a worker can lay hands on what its glue holds (a JS
 * module can wrap the realm's globals), so a shared arena would show it the others' messages.
 */
interface LocalBus {
  arena: BusArena;
  space: InboxSpace;
}

/** Largest arena of one process: room for about 250 subscriptions (reserved, not committed). */
const LOCAL_BUS_BYTES = 256 * 1024 * 1024;

function localBus(): LocalBus {
  const arena = new BusArena(allocateBusArena(LOCAL_BUS_BYTES, 1));
  return { arena, space: new InboxSpace(arena) };
}

/** A mirrored subscription: the kernel's slot and this frame's. */
interface Mirror {
  slot: number;
  offset: number;
  capacity: number;
}

/** A stream of output on its way to the page. */
class OutPump {
  private inFlight = 0;
  private wake: (() => void) | null = null;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    readonly ring: Ring,
    private readonly fd: 1 | 2,
    private readonly sid: number,
    private readonly post: Post,
  ) {
    this.done = this.run();
  }

  /** The page took `bytes`. */
  acked(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
    this.wake?.();
  }

  /** Nobody waits for the rest (the page ended the process). */
  stop(): void {
    this.stopped = true;
    this.ring.closeReader();
    this.wake?.();
  }

  private async run(): Promise<void> {
    for (;;) {
      while (this.inFlight >= WINDOW && !this.stopped) await new Promise<void>((ok) => (this.wake = ok));
      if (this.stopped) return;
      const chunk = this.ring.readChunk(Math.min(CHUNK, WINDOW - this.inFlight));
      if (chunk !== null) {
        this.inFlight += chunk.length;
        this.post({ v: FRAME_PROTOCOL, type: FromFrame.out, sid: this.sid, fd: this.fd, data: chunk }, [chunk.buffer]);
        continue;
      }
      if ((await this.ring.readableWhileOpen()) === 'closed' && this.ring.available() === 0) return;
    }
  }
}

/** An Extism plugin's linked modules, compiled in the frame. */
export type Linked = Array<{ name: string; module: WebAssembly.Module }>;

/** A process of the frame, from start to exit. */
export class FrameProcess {
  private readonly stdin: Ring;
  private readonly out: OutPump;
  private readonly err: OutPump;
  private readonly syscall = allocateSyncCall();
  private readonly worker: Worker;
  private stdinChain: Promise<void> = Promise.resolve();
  /** A JS module's blob: URL, let go at the end. */
  private scriptUrl: string | undefined;
  private ended = false;
  /** The kernel's subscription slot to its mirror here. */
  private readonly mirrors = new Map<number, Mirror>();
  /** Calls answered by message (the module is suspended meanwhile), by call id. */
  private readonly messageCalls = new Map<number, string>();
  /** Its windows' input rings, by window id, filled from the page. */
  private readonly windows = new Map<number, EventRing>();
  /** Bus calls on their way to the kernel, by call id, whose answers need translating. */
  private readonly busCalls = new Map<number, { call: string; pattern?: string; local?: number }>();
  private readonly bus = localBus();
  /** A migratable module's control words, shared with its worker here (none cross from the page). */
  private readonly control: MigrateControl | undefined;

  constructor(
    readonly start: FrameStart,
    /** The compiled module, or a JS module's blob: URL. */
    module: WebAssembly.Module | string,
    linked: Linked,
    private readonly workers: FrameWorkers,
    private readonly post: Post,
    private readonly onEnd: () => void,
  ) {
    if (typeof module === 'string') this.scriptUrl = module;
    const { sid } = start;
    this.stdin = new Ring(allocateRing(start.rings.stdin));
    const stdout = new Ring(allocateRing(start.rings.stdout));
    const stderr = new Ring(allocateRing(start.rings.stderr));
    this.out = new OutPump(stdout, 1, sid, post);
    this.err = new OutPump(stderr, 2, sid, post);
    const watch = start.watchdogMs !== undefined ? allocateWatch() : undefined;
    this.control = start.migrate !== undefined ? new MigrateControl() : undefined;
    this.worker = workers.take(start.name);
    this.worker.onmessage = (e: MessageEvent<unknown>) => this.fromWorker(e.data, watch);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.end({ code: EXIT_CODES.crashed, reason: 'crashed', message: e.message || 'the worker failed' }, false);
    };
    const msg: StartMessage = {
      v: WORKER_PROTOCOL,
      type: ToWorker.start,
      pid: start.pid,
      ...(typeof module === 'string' ? { scriptUrl: module } : { module }),
      maxPages: start.maxPages,
      args: start.args,
      env: start.env,
      preopens: start.preopens,
      files: start.files,
      stdin: this.stdin.sab,
      stdout: stdout.sab,
      stderr: stderr.sab,
      stdoutIsPipe: start.stdoutIsPipe,
      tty: start.tty,
      // The frame's rings are this start's own: the worker closes them when it ends.
      keepStdio: false,
      grants: start.grants,
      syscall: this.syscall,
      // No shared memory crosses into the frame: the bus is a local mirror, publishing is a call.
      shared: { bus: this.bus.arena.sab },
      relayed: true,
      ...(watch !== undefined ? { watch } : {}),
      ...(this.control !== undefined ? { migrate: { control: this.control.sab, ...(start.migrate?.resume !== undefined ? { resume: start.migrate.resume } : {}) } } : {}),
      ...(start.serve === true ? { serve: true, serviceConfig: start.serviceConfig ?? {}, extism: { ...limitsOf(start), ...(linked.length > 0 ? { linked } : {}) } } : {}),
    };
    this.worker.postMessage(msg);
  }

  /** A message from the page for this process. */
  handle(msg: ToFrameMessage): void {
    switch (msg.type) {
      case 'stdin': {
        const data = msg.data;
        this.stdinChain = this.stdinChain.then(() => this.feed(data));
        return;
      }
      case 'stdin-end':
        this.stdinChain = this.stdinChain.then(() => this.stdin.closeWriter());
        return;
      case 'ack':
        (msg.fd === 1 ? this.out : this.err).acked(msg.bytes);
        return;
      case 'reader-gone':
        (msg.fd === 1 ? this.out : this.err).ring.closeReader();
        return;
      case 'reply': {
        if (this.ended) return;
        if (this.messageCalls.has(msg.id)) {
          this.replyByMessage(msg.id, msg.ok, msg.value, msg.error);
          return;
        }
        const value = msg.ok ? this.translateReply(msg.id, msg.value) : undefined;
        this.busCalls.delete(msg.id);
        answerSyncCall(this.syscall, msg.ok ? { ok: true, value } : { ok: false, error: msg.error });
        return;
      }
      case 'input': {
        const ring = this.windows.get(msg.window);
        if (ring === undefined) return;
        for (let at = 0; at + EVENT_WORDS <= msg.events.length; at += EVENT_WORDS) ring.push(msg.events.subarray(at, at + EVENT_WORDS));
        if (msg.closed) {
          ring.close();
          this.windows.delete(msg.window);
        }
        return;
      }
      case 'bus': {
        const m = this.mirrors.get(msg.slot);
        if (m !== undefined) for (const d of msg.messages) this.bus.arena.deliver(m.slot, d.topic, d.data, d.from);
        return;
      }
      case 'kill':
        this.end({ code: EXIT_CODES.killed, reason: 'killed', message: 'killed' }, false);
        return;
      case 'park':
        // After every stdin chunk sent before it (same port, in order): it parks once its ring is empty.
        this.stdinChain = this.stdinChain.then(() => {
          this.control?.requestPark();
          this.stdin.wakeReader();
        });
        return;
      case 'unpark':
        this.control?.withdraw();
        return;
      case 'serve': {
        // The worker serves one call at a time, on its event loop; the page queues them (ADR 0032).
        const serve: ServeMessage = { v: WORKER_PROTOCOL, type: ToWorker.serve, pid: this.start.pid, id: msg.id, fn: msg.fn, input: msg.input, ...(msg.until !== undefined ? { until: msg.until } : {}) };
        if (!this.ended) this.worker.postMessage(serve, [msg.input.buffer]);
        return;
      }
      default:
    }
  }

  /** Writes a stdin chunk into the ring as room appears, then tells the page. */
  private async feed(data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length && !this.stdin.readerClosed) {
      const n = this.stdin.write(done === 0 ? data : data.subarray(done));
      done += n;
      if (n === 0) await this.stdin.writable();
    }
    this.post({ v: FRAME_PROTOCOL, type: FromFrame.stdinAck, sid: this.start.sid, bytes: data.length });
  }

  private fromWorker(data: unknown, watch: SharedArrayBuffer | undefined): void {
    let msg;
    try {
      msg = parseFromWorker(data);
    } catch (e) {
      this.end({ code: EXIT_CODES.crashed, reason: 'crashed', message: KernelError.from(e).message }, false);
      return;
    }
    const sid = this.start.sid;
    const pid = this.start.pid;
    // The worker speaks for this process only (module code in it could try to speak for another).
    if ('pid' in msg && msg.pid !== pid) {
      this.end({ code: EXIT_CODES.crashed, reason: 'crashed', message: `malformed worker message: it names pid ${msg.pid}, not ${pid}` }, false);
      return;
    }
    switch (msg.type) {
      case FromWorker.running:
        this.post({ v: FRAME_PROTOCOL, type: FromFrame.running, sid });
        if (watch !== undefined && this.start.watchdogMs !== undefined) this.watch(watch, this.start.watchdogMs);
        return;
      case FromWorker.call:
        // A call answered by message (a suspended module, a JS module) is answered into the
        // worker by message; the page refuses any answer that would carry objects in here.
        if (msg.reply === ReplyBy.message) this.messageCalls.set(msg.id, msg.call);
        // A frame's bitmap is moved, not copied, on its way to the page.
        const bitmap = msg.call === GfxCall.frame ? (msg.args as { bitmap?: unknown } | null)?.bitmap : undefined;
        const transfer = bitmap instanceof ImageBitmap ? [bitmap] : [];
        this.post({ v: FRAME_PROTOCOL, type: FromFrame.call, sid, id: msg.id, call: msg.call, args: this.translateCall(msg.id, msg.call, msg.args), reply: msg.reply }, transfer);
        return;
      case FromWorker.served:
        this.post(
          { v: FRAME_PROTOCOL, type: FromFrame.served, sid, id: msg.id, ok: msg.ok, ...(msg.ok ? { output: msg.output } : { error: msg.error }) },
          msg.ok && msg.output !== undefined ? [msg.output.buffer] : [],
        );
        return;
      case FromWorker.exited:
        this.end({ code: msg.code, reason: msg.reason, ...(msg.message !== undefined ? { message: msg.message } : {}) }, true);
        return;
      case FromWorker.error:
        this.end({ code: EXIT_CODES.crashed, reason: 'crashed', message: `${msg.error.code}: ${msg.error.message}` }, false);
        return;
      default:
    }
  }

  /** Answers a suspended module; a window it opened gets an input ring here, filled from the page. */
  private replyByMessage(id: number, ok: boolean, value: unknown, error: unknown): void {
    const call = this.messageCalls.get(id);
    this.messageCalls.delete(id);
    const base = { v: WORKER_PROTOCOL, type: ToWorker.reply, pid: this.start.pid, id } as const;
    if (ok && (call === 'bus.subscribe' || call === 'bus.unsubscribe')) value = this.translateReply(id, value);
    this.busCalls.delete(id);
    const v = value as { id?: unknown } | null;
    if (ok && call === GfxCall.open && typeof v?.id === 'number') {
      const ring = new EventRing(allocateEventRing(EVENT_CAPACITY, EVENT_WORDS));
      this.windows.set(v.id, ring);
      this.worker.postMessage({ ...base, ok: true, value: { ...v, events: ring.sab } });
      return;
    }
    this.worker.postMessage(ok ? { ...base, ok: true, value } : { ...base, ok: false, error });
  }

  /** Bus calls name the frame's mirror slots; the kernel knows its own. */
  private translateCall(id: number, call: string, args: unknown): unknown {
    const a = typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {};
    if (call === 'bus.subscribe' && typeof a.pattern === 'string') this.busCalls.set(id, { call, pattern: a.pattern });
    if (call === 'bus.unsubscribe' && typeof a.slot === 'number') {
      const local = a.slot;
      const real = [...this.mirrors.entries()].find(([, m]) => m.slot === local)?.[0];
      this.busCalls.set(id, { call, local });
      return { slot: real ?? -1 };
    }
    return args;
  }

  /** A subscription answered by the kernel gets its mirror here, and the module that mirror. */
  private translateReply(id: number, value: unknown): unknown {
    const pending = this.busCalls.get(id);
    if (pending === undefined) return value;
    if (pending.call === 'bus.unsubscribe') {
      for (const [real, m] of this.mirrors) if (m.slot === pending.local) this.dropMirror(real, m);
      return value;
    }
    const real = value as { slot?: unknown };
    if (typeof real?.slot !== 'number' || pending.pattern === undefined) return value;
    const capacity = BUS_LIMITS.inboxBytes;
    const offset = this.bus.space.take(capacity);
    const slot = offset < 0 ? -1 : this.bus.arena.open(pending.pattern, this.start.pid, offset, capacity);
    if (slot < 0) {
      if (offset >= 0) this.bus.space.give(offset, capacity);
      return { slot: -1, gen: 0 };
    }
    this.mirrors.set(real.slot, { slot, offset, capacity });
    return { slot, gen: this.bus.arena.generation(slot) };
  }

  private dropMirror(real: number, m: Mirror): void {
    this.mirrors.delete(real);
    this.bus.arena.close(m.slot);
    this.bus.space.give(m.offset, m.capacity);
  }

  private watch(sab: SharedArrayBuffer, ms: number): void {
    watchdog(new WatchReader(sab), ms, () => !this.ended, (stalled) =>
      this.end({ code: EXIT_CODES['watchdog-expired'], reason: 'watchdog-expired', message: `no system call for ${Math.round(stalled)} ms (watchdog ${ms} ms)` }, false),
    );
  }

  /**
   * The end of this start. A worker that exited on its own goes back to the pool once its
   * output is sent; any other end terminates it (it may be in a loop) and closes its rings.
   */
  private end(exit: ProcessExit, clean: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (this.scriptUrl !== undefined) URL.revokeObjectURL(this.scriptUrl);
    for (const [real, m] of [...this.mirrors]) this.dropMirror(real, m);
    // A worker is kept for the next start only after a WebAssembly process ended on its own; one
    // that ran JavaScript may have left state behind (or only claimed to have ended).
    if (clean && this.scriptUrl === undefined) {
      this.workers.give(this.start.name, this.worker);
    } else {
      markKilled(this.syscall);
      this.worker.terminate();
    }
    // Closed already by a process that ended on its own; the output drains either way.
    this.out.ring.closeWriter();
    this.err.ring.closeWriter();
    this.stdin.closeReader();
    if (exit.reason === 'killed') {
      // The page ended it and waits for nothing more.
      this.out.stop();
      this.err.stop();
      this.onEnd();
      return;
    }
    // Still listening (the page acknowledges the last output) until the exit is sent.
    void Promise.all([this.out.done, this.err.done]).then(() => {
      this.post({ v: FRAME_PROTOCOL, type: FromFrame.exited, sid: this.start.sid, ...exit });
      this.onEnd();
    });
  }
}

/** A service start's Extism limits (its linked modules go compiled, beside). */
function limitsOf(start: FrameStart): { maxBytes?: number; maxVarBytes?: number } {
  const e = start.extism;
  return { ...(e?.maxBytes !== undefined ? { maxBytes: e.maxBytes } : {}), ...(e?.maxVarBytes !== undefined ? { maxVarBytes: e.maxVarBytes } : {}) };
}
