/**
 * The `worker` execution mode: each running process has a dedicated Worker named after its
 * module. A worker whose process ended on its own is kept warm (per module name, bounded) and
 * runs that module's next spawn, so a spawn costs a message, not a worker start-up.
 */
import workerUrl from '../../process/worker-entry.ts?worker&url';
import {
  FromWorker,
  ReplyBy,
  ToWorker,
  WORKER_PROTOCOL,
  allocateSyncCall,
  allocateWatch,
  WatchReader,
  answerSyncCall,
  markKilled,
  CallSpace,
  SlotPool,
  parseFromWorker,
  type CallMessage,
  type ServeMessage,
  type StartMessage,
} from '../../ipc';
import { EXIT_CODES, KernelError, isWall, type ProcessExit } from '../../common';
import type { Host, HostResources, HostStart, HostedProcess } from '../types';
import { watchdog } from '../watchdog';
import { BootGate } from './boot-gate';
import { FileServer } from './file-server';

/** Limits of the warm pool. */
export interface WorkerHostOptions {
  /** Idle workers kept per module name. */
  idlePerModule?: number;
  /** Idle workers kept in all. */
  idleTotal?: number;
  /** An idle worker is ended after this long. */
  idleMs?: number;
  /** New workers booting at once (default: the number of cores, at least 2); the others wait their turn. */
  bootConcurrency?: number;
  /** Hears of each write to a home that a full disk refused (the file server's, ADR 0025). */
  onNoSpace?: (pid: number, path: string) => void;
}

interface Running {
  pid: number;
  syscall: SharedArrayBuffer;
  onCall: HostStart['onCall'];
  onRunning: () => void;
  onExit: (e: ProcessExit) => void;
  /** A JS module's blob: URL: let go at the end, and the worker with it (JS can leave state behind). */
  scriptUrl?: string;
  /** Service calls sent and not answered yet, by id. */
  serving: Map<number, { ok: (out: Uint8Array) => void; fail: (e: KernelError) => void }>;
  /** A service's slot in the call space: its worker sleeps there between calls, so a message must ring it. */
  direct?: { slot: number; serial: number; space: CallSpace };
  /** Its worker said it ended (the glue has finished with it), rather than the page ending it. */
  reported?: boolean;
}

/** One Worker, reused only for the same module name, one process at a time. */
class ModuleWorker {
  readonly name: string;
  readonly worker: Worker;
  current: Running | null = null;
  dead = false;
  /** The worker's lifetime lock is being waited for. */
  private watching = false;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  idleSince = 0;

  /** `booted` is called once the worker has said anything, or has ended. */
  constructor(
    name: string,
    onIdle: (w: ModuleWorker) => void,
    private readonly booted: () => void = () => {},
  ) {
    this.name = name;
    this.worker = new Worker(workerUrl, { type: 'module', name: `webmk: ${name}` });
    this.worker.onmessage = (e: MessageEvent<unknown>) => {
      this.booted();
      let msg;
      try {
        msg = parseFromWorker(e.data);
      } catch (err) {
        this.fail(`the worker sent a malformed message: ${(err as Error).message}`);
        return;
      }
      if (msg.type === FromWorker.ready && msg.lock !== undefined) this.watchLifetime(msg.lock);
      if (msg.type === FromWorker.running && msg.pid === this.current?.pid) this.current.onRunning();
      if (msg.type === FromWorker.exited && msg.pid === this.current?.pid) {
        const done = this.current;
        this.current = null;
        done.reported = true;
        done.onExit({ code: msg.code, reason: msg.reason, ...(msg.message !== undefined ? { message: msg.message } : {}) });
        // A worker whose last process hit its memory cap is not kept: let its memory go. Nor one
        // that ran JavaScript: it may have left timers or globals for the next start to meet.
        if (done.scriptUrl !== undefined) URL.revokeObjectURL(done.scriptUrl);
        if (msg.reason === 'memory-exceeded' || done.scriptUrl !== undefined) this.terminate();
        else onIdle(this);
      }
      if (msg.type === FromWorker.call && msg.pid === this.current?.pid) this.answer(this.current, msg);
      if (msg.type === FromWorker.served && msg.pid === this.current?.pid) {
        const waiting = this.current.serving.get(msg.id);
        this.current.serving.delete(msg.id);
        if (msg.ok && msg.output !== undefined) waiting?.ok(msg.output);
        else waiting?.fail(KernelError.from(msg.error));
      }
      if (msg.type === FromWorker.error) this.fail(`${msg.error.code}: ${msg.error.message}`);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.fail(e.message || 'the worker failed');
    };
    this.worker.onmessageerror = () => this.fail('a message to the worker could not be deserialized');
  }

  start(req: HostStart, running: Running, watch: SharedArrayBuffer | undefined, fileChannel?: SharedArrayBuffer): void {
    this.current = running;
    running.reported = false;
    // The compiled module goes over; its bytes are for hosts that cannot take one.
    const { name: _name, onCall: _onCall, program, watchdogMs: _watchdogMs, ...rest } = req;
    if (program.kind === 'js') running.scriptUrl = URL.createObjectURL(new Blob([program.script], { type: 'text/javascript' }));
    const msg: StartMessage = {
      v: WORKER_PROTOCOL,
      type: ToWorker.start,
      ...rest,
      ...(program.kind === 'wasm' ? { module: program.module, maxPages: program.maxPages } : { scriptUrl: running.scriptUrl, maxPages: 0 }),
      syscall: running.syscall,
      // JS shares its realm with the glue: it gets no call space, where it could forge direct calls (ADR 0027).
      ...(program.kind === 'js' ? { shared: Object.fromEntries(Object.entries(rest.shared).filter(([k]) => k !== 'calls')) } : {}),
      ...(watch !== undefined ? { watch } : {}),
      ...(fileChannel !== undefined ? { fileChannel } : {}),
      ...(running.direct !== undefined ? { callSlot: { slot: running.direct.slot, serial: running.direct.serial } } : {}),
    };
    this.worker.postMessage(msg);
  }

  /** Sends one service call to the process `running`, which must be this worker's current one. */
  serve(running: Running, id: number, fn: string, input: Uint8Array, until: number | undefined): void {
    const msg: ServeMessage = { v: WORKER_PROTOCOL, type: ToWorker.serve, pid: running.pid, id, fn, input, ...(until !== undefined ? { until } : {}) };
    if (running.direct === undefined) this.worker.postMessage(msg);
    else running.direct.space.mail(running.direct.slot, () => this.worker.postMessage(msg));
  }

  /**
   * Waits for the worker's lifetime lock: granted once the worker is gone. Gone without the page
   * ending it (it closed itself, or its thread died), its process ends `crashed`, whatever call it
   * was in, and the worker is not reused.
   */
  private watchLifetime(lock: string): void {
    if (this.watching) return;
    this.watching = true;
    void navigator.locks.request(lock, () => {
      if (!this.dead) this.fail('its worker ended without a word (it closed itself or its thread died)');
    });
  }

  /** Runs a guest call through the kernel and answers it the way the guest waits. */
  private answer(running: Running, msg: CallMessage): void {
    const reply = (ok: boolean, value: unknown, transfer: Transferable[] = []): void => {
      if (this.current !== running) return; // the process ended meanwhile
      if (msg.reply === ReplyBy.sab) {
        answerSyncCall(running.syscall, ok ? { ok, value } : { ok, error: value });
      } else if (msg.reply === ReplyBy.message) {
        const base = { v: WORKER_PROTOCOL, type: ToWorker.reply, pid: msg.pid, id: msg.id, ok };
        this.worker.postMessage(ok ? { ...base, value } : { ...base, error: value }, transfer);
      }
    };
    running.onCall(msg.call, msg.args).then(
      (r) => reply(true, r.value, r.transfer),
      (e: unknown) => reply(false, KernelError.from(e instanceof Error && !(e instanceof KernelError) ? { code: 'ipc/malformed', message: e.message } : e).toJSON()),
    );
  }

  /** Ends the worker; a running process ends with `exit`. */
  terminate(exit?: ProcessExit): void {
    this.dead = true;
    this.booted();
    if (this.current?.scriptUrl !== undefined) URL.revokeObjectURL(this.current.scriptUrl);
    // The worker may run on for a while after terminate(): tell its glue to stand still.
    if (this.current !== null) markKilled(this.current.syscall);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.worker.terminate();
    const done = this.current;
    this.current = null;
    if (done !== null && exit !== undefined) done.onExit(exit);
  }

  private fail(message: string): void {
    this.terminate({ code: EXIT_CODES.crashed, reason: 'crashed', message });
  }
}

/** How long a start refused at the wall waits, once idle workers were ended, before it is tried again (their memories go a moment after them). */
const WALL_RETRY_MS = 300;

export class WorkerHost implements Host {
  readonly mode = 'worker' as const;
  private readonly idle = new Map<string, ModuleWorker[]>();
  private readonly busy = new Set<ModuleWorker>();
  private readonly opts: Required<WorkerHostOptions>;
  private readonly gate: BootGate;
  private readonly files: FileServer;
  /** Starts waiting at the gate, each with the function that ends it before it began. */
  private readonly waiting = new Set<(end: ProcessExit) => void>();
  /** Call slots for the services it runs, from the call space the kernel shares (ADR 0027). */
  private pool: SlotPool | undefined;

  constructor(opts: WorkerHostOptions = {}) {
    this.opts = { idlePerModule: 2, idleTotal: 8, idleMs: 60_000, bootConcurrency: Math.max(2, globalThis.navigator?.hardwareConcurrency ?? 2), onNoSpace: () => {}, ...opts };
    this.files = new FileServer((m) => this.opts.onNoSpace(m.pid, m.path));
    this.gate = new BootGate(this.opts.bootConcurrency);
  }

  start(req: HostStart): HostedProcess {
    /** The worker this start runs on, while it has one. */
    let w: ModuleWorker | undefined;
    let started = false;
    let retried = false;
    /** Ends this start while it has no worker (waiting to boot, or to try again): it never ran. */
    let endWaiting: ((end: ProcessExit) => void) | undefined;
    let running!: () => void;
    let exit!: (e: ProcessExit) => void;
    const runningP = new Promise<void>((ok) => (running = ok));
    const exited = new Promise<ProcessExit>((ok) => (exit = ok));
    const watch = req.watchdogMs !== undefined ? allocateWatch() : undefined;
    // A home kept in OPFS: the file server serves this start through its own channel, let go at its end.
    const fileChannel = req.opfsHome !== undefined ? this.files.attach(req.pid, req.opfsHome.module) : undefined;
    // Reused for a later start only if its worker said it ended: one the page ended may run on a moment.
    if (fileChannel !== undefined) void exited.then(() => this.files.detach(fileChannel, current.reported === true));
    let nextServe = 1;
    const direct = req.serve === true ? this.takeSlot(req.shared.calls) : undefined;
    const current: Running = {
      pid: req.pid,
      serving: new Map(),
      syscall: allocateSyncCall(),
      onCall: req.onCall,
      ...(direct !== undefined ? { direct } : {}),
      onRunning: () => {
        started = true;
        running();
        if (w !== undefined && watch !== undefined && req.watchdogMs !== undefined) this.watch(w, current, watch, req.watchdogMs);
      },
      onExit: (e) => {
        for (const s of current.serving.values()) s.fail(new KernelError('service/error', `the service ended (${e.reason}${e.message !== undefined ? `: ${e.message}` : ''})`, { reason: e.reason }));
        current.serving.clear();
        if (w !== undefined) this.busy.delete(w);
        w = undefined;
        // Workers may hold memories of their past runs that their engine has not collected yet
        // (it collects by heap pressure, not address space): at the wall the idle ones go, and
        // the start is tried once more on a fresh worker a moment later.
        if (!started && !retried && isWall(e.message)) {
          this.dropIdle();
          retried = true;
          const again = (): void => {
            this.waiting.delete(end);
            boot();
          };
          const timer = setTimeout(again, WALL_RETRY_MS);
          const end = (x: ProcessExit): void => {
            clearTimeout(timer);
            this.waiting.delete(end);
            exit(x);
          };
          this.waiting.add(end);
          endWaiting = end;
          return;
        }
        exit(e);
      },
    };
    const launch = (worker: ModuleWorker): void => {
      w = worker;
      endWaiting = undefined;
      this.busy.add(worker);
      worker.start(req, current, watch, fileChannel);
    };
    const boot = (): void => {
      const pooled = this.take(req.name);
      if (pooled !== undefined) return launch(pooled);
      const end = (e: ProcessExit): void => {
        if (!withdraw()) return;
        this.waiting.delete(end);
        exit(e);
      };
      this.waiting.add(end);
      endWaiting = end;
      const withdraw = this.gate.enter((done) => {
        this.waiting.delete(end);
        launch(new ModuleWorker(req.name, (x) => this.release(x), done));
      });
    };
    boot();
    if (direct !== undefined) void exited.then(() => this.pool?.release(direct.slot));
    return {
      ...(direct !== undefined ? { direct: { slot: direct.slot, serial: direct.serial } } : {}),
      // A service asleep on its call slot (ADR 0027) sees a request to park (ADR 0028) once woken.
      ...(direct !== undefined && this.pool !== undefined ? { park: (on: boolean) => on && this.pool?.space.wake(direct.slot) } : {}),
      running: runningP,
      exited,
      kill: async (end = { code: EXIT_CODES.killed, reason: 'killed', message: 'killed' }) => {
        if (w === undefined) endWaiting?.(end);
        else if (w.current === current) {
          // This start only: the worker may run a later start of the same pid by now.
          this.busy.delete(w);
          w.terminate(end);
        }
        await exited;
      },
      ...(req.serve === true
        ? {
            serve: (fn: string, input: Uint8Array, until?: number) =>
              new Promise<Uint8Array>((ok, fail) => {
                if (w === undefined || w.current !== current || !started) {
                  fail(new KernelError('service/error', 'the service is not running'));
                  return;
                }
                const id = nextServe++;
                current.serving.set(id, { ok, fail });
                w.serve(current, id, fn, input, until);
              }),
          }
        : {}),
    };
  }

  /** A slot for a service's start, when the kernel shares a call space and one is free. */
  private takeSlot(sab: SharedArrayBuffer | undefined): { slot: number; serial: number; space: CallSpace } | undefined {
    if (sab === undefined) return undefined;
    if (this.pool?.space.sab !== sab) this.pool = new SlotPool(new CallSpace(sab));
    const taken = this.pool.take();
    return taken === undefined ? undefined : { ...taken, space: this.pool.space };
  }

  /** Ends every idle worker. */
  private dropIdle(): void {
    for (const list of this.idle.values()) for (const w of list) w.terminate();
    this.idle.clear();
  }

  /** Ends the start `current` with `watchdog-expired` once it computes `ms` without a host call. */
  private watch(w: ModuleWorker, current: Running, sab: SharedArrayBuffer, ms: number): void {
    watchdog(new WatchReader(sab), ms, () => w.current === current, (stalled) => {
      if (w.current !== current) return;
      this.busy.delete(w);
      w.terminate({ code: EXIT_CODES['watchdog-expired'], reason: 'watchdog-expired', message: `no system call for ${Math.round(stalled)} ms (watchdog ${ms} ms)` });
    });
  }

  /** Workers that exist now, busy and idle (for tests and the process view). */
  workerCount(): { busy: number; idle: number } {
    let idle = 0;
    for (const list of this.idle.values()) idle += list.length;
    return { busy: this.busy.size, idle };
  }

  resources(): HostResources {
    const idle = [...this.idle.values()].flat();
    const gate = this.gate.counts();
    return {
      processes: this.busy.size + this.waiting.size,
      busyWorkers: this.busy.size,
      idleWorkers: idle.length,
      booting: gate.booting,
      waiting: gate.waiting,
      frames: 0,
      ports: 0,
      blobUrls: [...this.busy].filter((w) => w.current?.scriptUrl !== undefined).length,
      timers: idle.filter((w) => w.idleTimer !== undefined).length,
    };
  }

  dispose(): void {
    this.files.dispose();
    for (const end of [...this.waiting]) end({ code: EXIT_CODES.killed, reason: 'killed', message: 'kernel disposed' });
    for (const w of this.busy) w.terminate({ code: EXIT_CODES.killed, reason: 'killed', message: 'kernel disposed' });
    for (const list of this.idle.values()) for (const w of list) w.terminate();
    this.busy.clear();
    this.idle.clear();
  }

  private take(name: string): ModuleWorker | undefined {
    const list = this.idle.get(name);
    let w = list?.pop();
    // An idle worker may have ended on its own since (see watchLifetime).
    while (w?.dead === true) w = list?.pop();
    if (list?.length === 0) this.idle.delete(name);
    if (w !== undefined) {
      clearTimeout(w.idleTimer);
      w.idleTimer = undefined;
    }
    return w;
  }

  private release(w: ModuleWorker): void {
    this.busy.delete(w);
    if (w.dead) return;
    if ((this.idle.get(w.name)?.length ?? 0) >= this.opts.idlePerModule) {
      w.terminate();
      return;
    }
    // The pool is full: the worker idle longest makes room (the one just freed is likeliest
    // to be wanted again). The list is read after: evicting may replace it.
    if (this.idleCount() >= this.opts.idleTotal) this.evictOldest();
    const list = this.idle.get(w.name) ?? [];
    list.push(w);
    this.idle.set(w.name, list);
    w.idleSince = performance.now();
    w.idleTimer = setTimeout(() => this.drop(w), this.opts.idleMs);
  }

  private drop(w: ModuleWorker): void {
    const l = this.idle.get(w.name);
    if (l !== undefined) {
      const rest = l.filter((x) => x !== w);
      if (rest.length > 0) this.idle.set(w.name, rest);
      else this.idle.delete(w.name);
    }
    w.terminate();
  }

  private evictOldest(): void {
    let oldest: ModuleWorker | undefined;
    for (const list of this.idle.values()) for (const w of list) if (oldest === undefined || w.idleSince < oldest.idleSince) oldest = w;
    if (oldest !== undefined) this.drop(oldest);
  }

  private idleCount(): number {
    return this.workerCount().idle;
  }
}
