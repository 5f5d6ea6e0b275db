/**
 * One process over its whole life: its row in the table, its handle and streams, and its
 * incarnations. An incarnation is one start of its module on a host; when it ends, the restart
 * policy (supervisor.ts) decides whether another starts under the same pid after a backoff. The
 * rings, the streams and the pid stay across incarnations, so whoever holds the handle sees one
 * process, and every transition is reported with its reason.
 */
import type { Caller } from '../capability';
import { EXIT_CODES, KernelError, type ExecutionMode, type ModuleInfo, type ProcessExit, type ProcessInfo, type StateReason } from '../common';
import type { Host, HostedProcess } from '../hosts';
import { BusArena, PARK_CALL, Ring, ringReadable, ringWritable, sleepUnthrottled, type ExtismStart, type GroupMember, type Snapshot } from '../ipc';
import type { Capabilities } from './capabilities';
import { Migration } from './migration';
import { isWall, slotOf, type AddressSpace, type MemorySlots } from './memory-slots';
import type { Runnable } from './runnable';
import type { CheckedSpawn } from './spawn-options';

import { RestartHistory, policyOf } from './supervisor';
import type { Process } from './types';

/** A spawn that passed its checks: what runs, and how. */
export interface Ready {
  info: ModuleInfo;
  o: CheckedSpawn;
  runnable: Runnable;
  /** A service module: its host serves calls instead of running `_start` (services.ts), with these config values. */
  serve?: { config: Record<string, string>; extism?: ExtismStart };
  /** Providers instantiated beside it in its worker (instance-group.ts). */
  group?: GroupMember[];
}

/** The wasm memories a start of `ready` holds: its own, and one per provider instantiated beside it (ADR 0033). */
export function memoriesOf(ready: Ready): number {
  return 1 + (ready.group?.length ?? 0);
}

/** The rings of a process's standard streams; a pipe is shared with a neighbouring stage. */
export interface Rings {
  stdin: SharedArrayBuffer;
  stdout: SharedArrayBuffer;
  stderr: SharedArrayBuffer;
  /** Which of stdin and stdout are pipes between stages (not the page's to use). */
  piped: { stdin: boolean; stdout: boolean };
}

/** What a process needs of the kernel. */
export interface LifecycleDeps {
  /** The host of an execution mode. */
  host(mode: ExecutionMode): Host;
  caps: Capabilities;
  /** The memory cap in pages (for the refusal message of a module over it). */
  maxPages: number;
  /** The wasm memories live in each renderer, and the limit seen. */
  slots: MemorySlots;
  /** A transition happened: the kernel tells its listeners. */
  changed(row: ProcessInfo, reason: StateReason): void;
  /** The process is gone for good; its row is final. */
  gone(row: ProcessInfo): void;
  /** Counts which module bytes run (an incarnation takes its module's hash, and drops it when it ends). */
  uses: { take(sha256: string): void; drop(sha256: string): void };
  /** What a remote process runs instead after `link-lost`, where its policy's `fallback` says (`local` or a node id). */
  relocate?(ready: Ready, fallback: string): Promise<Ready>;
}

/** Where a new process's counts start (a process started again after it ended continues them). */
export interface Continuing {
  incarnation: number;
  restarts: number;
}

/** A stdin the page cannot write: the stage reads the pipe from the stage before it. */
function pipeEnd(): WritableStream<Uint8Array> {
  return new WritableStream({
    write() {
      throw new KernelError('kernel/bad-argument', "this stage's stdin is a pipe from the stage before it");
    },
  });
}

export class Lifecycle {
  readonly row: ProcessInfo;
  /** Its handle, until it ends for good: then only its holder keeps it (and its streams' rings). */
  private handle: Process | undefined;
  private readonly exit: Promise<number>;
  private hosted: HostedProcess | undefined;
  /** Where the running incarnation holds wasm memories (absent: it holds none), how many, and whether it got them. */
  private slot: { space: AddressSpace; live: boolean; n: number } | undefined;
  private readonly history: RestartHistory;
  /** Set once someone asked it to end: no restart follows. */
  private stopping = false;
  /** Set while an explicit restart (or an update) replaces the running incarnation. */
  private restarting: 'requested' | 'updated' | undefined;
  private settle!: (code: number) => void;
  /**
   * Its rings while it may run again; let go when it ends for good (the handle's streams keep
   * what they read from, as long as their holder keeps them).
   */
  private rings: Rings | undefined;
  /** Which of stdin and stdout were pipes between stages. */
  readonly piped: Rings['piped'];
  /** What it runs: the module as it was at spawn, or the newer version an update moved it to. */
  private current: Ready;
  /** A newer version of its module, installed since it started: its next incarnation runs it. */
  private pending: Ready | undefined;
  /** The hash of the bytes the running incarnation took (absent between incarnations). */
  private using: string | undefined;
  /** Parking and resuming, for a migratable module (migration.ts). */
  readonly migration: Migration;
  /** Who waits for an incarnation to run (a service call). */
  private waiters: Array<{ ok: (h: HostedProcess) => void; fail: (e: KernelError) => void }> = [];

  constructor(
    pid: number,
    ready: Ready,
    rings: Rings,
    private readonly deps: LifecycleDeps,
    from: Continuing = { incarnation: 1, restarts: 0 },
  ) {
    this.current = ready;
    this.rings = rings;
    this.piped = rings.piped;
    const { info, o } = ready;
    this.history = new RestartHistory(policyOf(o.restart));
    this.row = {
      pid,
      name: info.name,
      mode: o.mode,
      state: 'starting',
      args: [info.name, ...o.args],
      tty: o.tty,
      startedAt: Date.now(),
      incarnation: from.incarnation,
      restarts: from.restarts,
      restart: this.history.policy.restart,
      ...(o.watchdogMs !== undefined ? { watchdogMs: o.watchdogMs } : {}),
      ...(o.node !== undefined ? { node: o.node } : {}),
    };
    // A snapshot holds its memory, not its providers' instances: parked, it would lose their state.
    this.migration = new Migration(info.migratable !== undefined, ready.group !== undefined ? 'the providers in its instance group keep state its snapshot would not hold' : undefined);
    const exit = new Promise<number>((ok) => (this.settle = ok));
    this.exit = exit;
    this.handle = {
      pid,
      stdin: rings.piped.stdin ? pipeEnd() : ringWritable(new Ring(rings.stdin)),
      stdout: rings.piped.stdout ? new ReadableStream({ start: (c) => c.close() }) : ringReadable(new Ring(rings.stdout)),
      stderr: ringReadable(new Ring(rings.stderr)),
      exit,
      kill: () => this.kill(),
    };
  }

  /** What its current (or last) incarnation runs. */
  get ready(): Ready {
    return this.current;
  }

  /** What its next incarnation runs: the newer version once an update came, else the same. */
  get latest(): Ready {
    return this.pending ?? this.current;
  }

  /** True while a newer version waits for its next incarnation. */
  get updatePending(): boolean {
    return this.pending !== undefined;
  }

  /**
   * A newer version of its module was installed: its next incarnation runs it, whenever that
   * starts (after a crash, a restart, or `switchNow`). The running incarnation is not touched.
   */
  updateTo(next: Ready): void {
    this.pending = next;
    this.row.updatePending = next.info.version;
    this.deps.changed(this.row, 'updated');
  }

  /**
   * Ends the running incarnation and starts the next one on the newer version at once; the
   * caller chose a moment when that loses nothing (updates.ts). Settles once the old one ended.
   */
  async switchNow(): Promise<void> {
    const hosted = this.hosted;
    if (this.pending === undefined || hosted === undefined || this.row.state !== 'running') return;
    this.restarting = 'updated';
    await hosted.kill({ code: EXIT_CODES.killed, reason: 'killed', message: `restarted into version ${this.pending.info.version}` });
  }

  /** Its handle; undefined once it has ended for good (a restart makes a new process). */
  get process(): Process | undefined {
    return this.handle;
  }

  /** The shared buffers it holds: its stdio rings and pipes, none once it has ended for good. */
  held(): SharedArrayBuffer[] {
    const r = this.rings;
    return r === undefined ? [] : [r.stdin, r.stdout, r.stderr];
  }

  /** Starts an incarnation (the first, or a restart). */
  begin(reason: StateReason): void {
    const row = this.row;
    if (this.pending !== undefined) {
      this.current = this.pending;
      this.pending = undefined;
      delete row.updatePending;
    }
    const { info, o, runnable } = this.current;
    const rings = this.rings;
    if (rings === undefined) throw new KernelError('kernel/bad-argument', `process ${row.pid} has ended for good`, { pid: row.pid });
    const resume = this.migration.takeResume();
    row.state = resume !== undefined ? 'resuming' : 'starting';
    row.version = info.version;
    row.sha256 = info.sha256;
    this.using = info.sha256;
    this.deps.uses.take(info.sha256);
    delete row.restartAt;
    delete row.snapshotBytes;
    this.deps.changed(row, reason);
    // A resumed process is the same process: its capabilities (a window) are already set up.
    if (resume === undefined) this.deps.caps.spawned(row.pid, info);
    const caller: Caller = { pid: row.pid, name: info.name, grants: info.grants, incarnation: row.incarnation };
    const space = slotOf(runnable, o.mode);
    const migrate = this.migration.startFields(o.mode, resume);
    // Its providers instantiated beside it hold a memory each (ADR 0033).
    const memories = memoriesOf(this.current);
    const wall = space === undefined ? undefined : this.deps.slots.refusal(space, memories);
    if (space !== undefined && wall === undefined) this.deps.slots.take(space, memories);
    this.slot = wall === undefined && space !== undefined ? { space, live: false, n: memories } : undefined;
    const hosted =
      runnable === 'min-exceeds'
        ? refused('memory-exceeded', `its initial memory is over the ${this.deps.maxPages / 16} MiB limit`)
        : wall !== undefined
          ? refused('no-memory-slot', wall)
          : this.deps.host(o.mode).start({
            pid: row.pid,
            name: info.name,
            // The hash of what runs: a frame compiles once per hash (a migratable module runs its instrumented bytes).
            program: { ...runnable, sha256: info.migratable?.sha256 ?? info.sha256 },
            args: row.args,
            env: o.env,
            preopens: o.preopens,
            files: o.files,
            // The worker keeps a home and a picked folder alike (home-calls.ts tells them apart).
            ...(o.homes.length + o.folders.length > 0 ? { homes: [...o.homes, ...o.folders.map(([dir]) => dir)] } : {}),
            // The home itself the file server keeps in OPFS, read and written from the worker (ADR 0025).
            ...(o.homes.length > 0 ? { opfsHome: { module: info.name, dirs: o.homes } } : {}),
            stdin: rings.stdin,
            stdout: rings.stdout,
            stderr: rings.stderr,
            stdoutIsPipe: rings.piped.stdout,
            tty: o.tty,
            // A process that may be restarted leaves its streams open for the next incarnation.
            keepStdio: row.restart !== 'temporary',
            ...(this.current.serve !== undefined ? { serve: true, serviceConfig: this.current.serve.config, ...(this.current.serve.extism !== undefined ? { extism: this.current.serve.extism } : {}) } : {}),
            ...(this.current.group !== undefined ? { group: this.current.group } : {}),
            ...migrate,
            grants: info.grants,
            shared: this.deps.caps.shared,
            ...(o.watchdogMs !== undefined ? { watchdogMs: o.watchdogMs } : {}),
            ...(o.node !== undefined ? { node: o.node } : {}),
            onCall: (call, args) => (call === PARK_CALL ? this.migration.parked(args) : this.deps.caps.calls.dispatch(caller, call, args)),
          });
    this.hosted = hosted;
    const began = performance.now();
    void hosted.running.then(() => {
      if (this.hosted !== hosted || (row.state !== 'starting' && row.state !== 'resuming')) return;
      if (this.slot !== undefined) {
        this.slot.live = true;
        this.deps.slots.instantiated(this.slot.space, this.slot.n);
      }
      row.state = 'running';
      this.migration.setFallback(undefined);
      // The host keeps its start request while the process runs: not the snapshot in it.
      delete migrate.migrate?.resume;
      this.deps.changed(row, reason);
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.ok(hosted);
    });
    void hosted.exited.then((end) => this.ended(hosted, end, performance.now() - began));
  }

  /** Its stdin ring while it may run again (a hibernated process wakes when it fills). */
  stdinRing(): SharedArrayBuffer | undefined {
    return this.rings?.stdin;
  }

  /**
   * Parks the running incarnation at its next safe point and lets its host go (migration.ts);
   * resolves with the snapshot once the host has ended, the row `hibernated`. Rejects with
   * `migrate/not-migratable`, `migrate/bad-state`, `migrate/busy` (not parked within `deadlineMs`).
   */
  async park(deadlineMs: number, state: 'hibernating' | 'switching'): Promise<Snapshot> {
    const hosted = this.hosted;
    if (this.row.state !== 'running' || hosted === undefined) {
      throw new KernelError('migrate/bad-state', `process ${this.row.pid} is ${this.row.state}, not running`, { pid: this.row.pid, state: this.row.state });
    }
    this.row.state = state;
    this.deps.changed(this.row, 'requested');
    try {
      return await this.migration.park(hosted, () => this.wakeReaders(), deadlineMs);
    } catch (e) {
      if (this.row.state === state && this.hosted === hosted) {
        this.row.state = 'running';
        this.deps.changed(this.row, 'requested');
      }
      throw e;
    }
  }

  /** The bus slots it owns (its subscriptions, kept while it is parked). */
  busSlots(): number[] {
    const sab = this.deps.caps.shared.bus;
    return sab === undefined ? [] : new BusArena(sab).slotsOf(this.row.pid);
  }

  /** Wakes it wherever it may wait to be parked: its stdin read, its bus receives. */
  private wakeReaders(): void {
    if (this.rings !== undefined) new Ring(this.rings.stdin).wakeReader();
    const sab = this.deps.caps.shared.bus;
    if (sab !== undefined) for (const slot of this.busSlots()) new BusArena(sab).wake(slot);
  }

  /** Starts it again from `snapshot` (its row goes `resuming`, then `running`). */
  resume(snapshot: Snapshot): void {
    if (this.row.state !== 'hibernated' && this.row.state !== 'switching') {
      throw new KernelError('migrate/bad-state', `process ${this.row.pid} is ${this.row.state}, not hibernated`, { pid: this.row.pid, state: this.row.state });
    }
    // A resume that cannot start (the browser refusing a memory at the wall) leaves it hibernated.
    if (this.row.state === 'hibernated') this.migration.setFallback({ mode: this.row.mode, snapshot, hibernated: true });
    this.migration.setResume(snapshot);
    this.begin('requested');
  }

  /**
   * Starts a parked (`switching`) process in `mode` from `snapshot`; if that start fails before
   * it runs, it starts again where it was, from the same snapshot (rolled back).
   */
  moveTo(mode: ExecutionMode, snapshot: Snapshot, node?: string): void {
    if (this.row.state !== 'switching') {
      throw new KernelError('migrate/bad-state', `process ${this.row.pid} is ${this.row.state}, not switching`, { pid: this.row.pid, state: this.row.state });
    }
    this.migration.setFallback({ mode: this.row.mode, snapshot });
    this.setMode(mode, node);
    this.migration.setResume(snapshot);
    this.begin('requested');
  }

  private setMode(mode: ExecutionMode, node?: string): void {
    const wasRemote = this.row.mode === 'remote';
    this.ready.o.mode = mode;
    this.row.mode = mode;
    // Moved to another node (ADR 0029), or back from a move there that failed.
    if (mode === 'remote') {
      this.ready.o.node = node;
      if (node !== undefined) this.row.node = node;
    } else if (wasRemote) {
      this.ready.o.node = undefined;
      delete this.row.node;
      delete this.row.remotePid;
    }
  }

  /** A process restored after a reload: hibernated, its snapshot in storage. */
  restoredHibernated(at: { startedAt: number; snapshotBytes?: number }): void {
    this.row.startedAt = at.startedAt;
    if (at.snapshotBytes !== undefined) this.row.snapshotBytes = at.snapshotBytes;
    this.row.state = 'hibernated';
    this.deps.changed(this.row, 'requested');
  }

  /** A service's slot in the call space while an incarnation runs (ADR 0027). */
  get callSlot(): { slot: number; serial: number } | undefined {
    return this.row.state === 'running' ? this.hosted?.direct : undefined;
  }

  /** The running incarnation, at once or once one runs; rejects with `service/error` once the process has ended for good. */
  whenRunning(): Promise<HostedProcess> {
    if (this.row.state === 'running' && this.hosted !== undefined) return Promise.resolve(this.hosted);
    if (this.row.state === 'exited') return Promise.reject(this.endError());
    return new Promise((ok, fail) => this.waiters.push({ ok, fail }));
  }

  private endError(): KernelError {
    const { reason, message } = this.row;
    return new KernelError('service/error', `the service ended for good (${reason ?? 'exited'}${message !== undefined ? `: ${message}` : ''})`, { pid: this.row.pid, reason });
  }

  /** Ends it for good (no restart follows); settles once it is gone. */
  async kill(): Promise<void> {
    if (this.row.state === 'exited') return;
    this.stopping = true;
    if (this.hosted !== undefined) await this.hosted.kill();
    else this.finish({ code: EXIT_CODES.killed, reason: 'killed', message: 'killed' });
    await this.exit;
  }

  /** Ends the running incarnation (if any) and starts the next one now, with a fresh restart history. */
  async restartNow(): Promise<void> {
    if (this.row.state === 'exited') return;
    this.history.reset();
    if (this.hosted === undefined) {
      this.next('requested');
      return;
    }
    this.restarting = 'requested';
    await this.hosted.kill({ code: EXIT_CODES.killed, reason: 'killed', message: 'restarted on request' });
  }

  private ended(hosted: HostedProcess, ended: ProcessExit, ranMs: number): void {
    if (this.hosted !== hosted) return;
    this.hosted = undefined;
    if (this.using !== undefined) this.deps.uses.drop(this.using);
    this.using = undefined;
    const row = this.row;
    let end = ended;
    const slot = this.slot;
    this.slot = undefined;
    if (slot !== undefined) this.deps.slots.release(slot.space, slot.live, slot.n);
    // Parked, not ended: its streams, pid and subscriptions stay; it waits to be resumed.
    const parked = this.migration.endedParked();
    if (parked !== undefined && !this.stopping && !this.restarting) {
      // A move starts it again at once (its row stays `switching`); a hibernation waits.
      const hibernated = row.state !== 'switching';
      if (hibernated) {
        row.state = 'hibernated';
        row.snapshotBytes = parked.memory.byteLength;
      }
      // What the old host held (a window's canvas) goes back to the capabilities.
      this.deps.caps.parked(row.pid, { memory: parked.memory, providers: parked.providers, info: this.ready.info });
      if (hibernated) this.deps.changed(row, 'requested');
      return;
    }
    // A move whose target could not start: back where it was, from the same snapshot.
    const back = row.state === 'resuming' && !this.stopping && !this.restarting ? this.migration.takeFallback() : undefined;
    if (back?.hibernated === true) {
      // Refused for want of address space: the browser's limit, learned as for a start.
      if (slot !== undefined && isWall(end.message)) this.deps.slots.met(slot.space);
      return this.backToHibernated(back.snapshot, end);
    }
    if (back !== undefined) {
      this.setMode(back.mode);
      this.migration.setResume(back.snapshot);
      this.begin('failed');
      return;
    }
    if (slot !== undefined) {
      // An instantiation refused for want of address space is the browser's limit, not the module's.
      if (row.state === 'starting' && (end.reason === 'memory-exceeded' || end.reason === 'failed') && isWall(end.message)) {
        end = { code: EXIT_CODES['no-memory-slot'], reason: 'no-memory-slot', message: this.deps.slots.met(slot.space) };
      }
    }
    const restarting = this.restarting;
    if (restarting !== undefined) {
      this.restarting = undefined;
      row.lastExit = { ...end, at: Date.now() };
      this.deps.caps.ended(row, false);
      this.next(restarting);
      return;
    }
    const decision = this.history.decide(end, this.stopping, ranMs, Date.now());
    if (decision.kind === 'stop') return this.finish(end);
    if (decision.kind === 'limit') {
      const { intensity, periodMs } = this.history.policy;
      const why = `${end.reason}${end.message !== undefined ? `: ${end.message}` : ''}`;
      return this.finish({ code: end.code, reason: 'restart-limit', message: `more than ${intensity} restarts in ${periodMs / 1000} s; last end ${why}` });
    }
    row.lastExit = { ...end, at: Date.now() };
    row.state = 'backoff';
    row.restartAt = Date.now() + decision.delayMs;
    this.deps.caps.ended(row, false);
    this.deps.changed(row, end.reason);
    const incarnation = row.incarnation;
    // Its node is gone and its policy says where else: here, or another node (ADR 0029).
    const fallback = this.history.policy.fallback;
    const elsewhere = end.reason === 'link-lost' && row.mode === 'remote' && fallback !== undefined ? this.deps.relocate?.(this.current, fallback) : undefined;
    void Promise.all([sleepUnthrottled(decision.delayMs), elsewhere?.catch((e: unknown) => KernelError.from(e))]).then(([, moved]) => {
      // A kill or an explicit restart may have come first.
      if (row.state !== 'backoff' || row.incarnation !== incarnation) return;
      if (moved instanceof KernelError) return this.finish({ ...end, message: `${end.message ?? 'link lost'}; it cannot start on this node: ${moved.message}` });
      if (moved !== undefined) this.relocated(moved);
      this.next(end.reason);
    });
  }

  /** A resume that could not start: hibernated again, its stored snapshot kept; whoever waited is told. */
  private backToHibernated(snapshot: Snapshot, end: ProcessExit): void {
    const row = this.row;
    row.state = 'hibernated';
    row.snapshotBytes = snapshot.memory.byteLength;
    this.deps.changed(row, 'failed');
    const why = `${end.reason}${end.message !== undefined ? `: ${end.message}` : ''}`;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.fail(new KernelError('migrate/failed', `process ${row.pid} could not be resumed (${why}); it stays hibernated`, { pid: row.pid, reason: end.reason }));
  }

  /** Runs where its `fallback` put it from now on: its row names that node, or none (here). */
  private relocated(ready: Ready): void {
    this.current = ready;
    this.pending = undefined;
    this.row.mode = ready.o.mode;
    delete this.row.remotePid;
    if (ready.o.mode === 'remote' && ready.o.node !== undefined) this.row.node = ready.o.node;
    else delete this.row.node;
  }

  /** The next incarnation. */
  private next(reason: StateReason): void {
    this.row.incarnation += 1;
    this.row.restarts += 1;
    this.begin(reason);
  }

  private finish(end: ProcessExit): void {
    const row = this.row;
    // The worker closes its ends when it exits on its own, unless a restart could follow;
    // a kill gives it no chance: close them here, so readers see end of file.
    const rings = this.rings;
    if (rings !== undefined) {
      new Ring(rings.stdout).closeWriter();
      new Ring(rings.stderr).closeWriter();
      new Ring(rings.stdin).closeReader();
    }
    this.rings = undefined;
    this.handle = undefined;
    this.pending = undefined;
    delete row.updatePending;
    row.state = 'exited';
    delete row.restartAt;
    row.endedAt = Date.now();
    row.exitCode = end.code;
    row.reason = end.reason;
    if (end.message !== undefined) row.message = end.message;
    this.deps.caps.ended(row, true);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.fail(this.endError());
    this.deps.gone(row);
    this.deps.changed(row, end.reason);
    this.settle(end.code);
  }
}

/** A host-less process that exits at once with a memory refusal. */
function refused(reason: 'memory-exceeded' | 'no-memory-slot', message: string): HostedProcess {
  const exited = Promise.resolve<ProcessExit>({ code: EXIT_CODES[reason], reason, message });
  return { running: new Promise(() => {}), exited, kill: async () => {} };
}
