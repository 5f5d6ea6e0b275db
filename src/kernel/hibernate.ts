/**
 * Hibernation (ADR 0019): a migratable process parked, its snapshot written to IndexedDB, its
 * worker and memory let go; resumed on request or as soon as its stdin has something for it;
 * listed again after a reload of the page, to be attached to and resumed.
 */
import { KernelError, isExecutionMode, type ExecutionMode, type ModuleInfo } from '../common';
import { BusArena, Ring, parseSnapshot, sleepUnthrottled, type Snapshot } from '../ipc';
import { SnapshotStore, type HibernatedRecord } from '../registry';
import type { BusApi } from '../bus';
import type { GfxApi } from '../gfx';
import type { ParkedProcess } from '../capability';
import { reopenSubscriptions } from './hibernate-subscriptions';
import type { Lifecycle } from './lifecycle';
import type { CheckedSpawn } from './spawn-options';

/** How long after a resume that could not start input for it tries again, ms. */
const RETRY_RESUME_MS = 1_000;

/** How long a hibernate or a move waits by default for a busy process to reach a safe point. */
export const DEFAULT_PARK_DEADLINE_MS = 5_000;

/** Options of `kernel.hibernate`. */
export interface HibernateOptions {
  /** How long to wait for a busy process to reach a blocking read (ms, default 5,000). */
  deadlineMs?: number;
  /** If it cannot be parked (busy past the deadline, or not migratable), restart it instead: its state is lost. */
  orRestart?: boolean;
  /** `setMode(pid, 'remote', { node })`: the node it moves to. */
  node?: string;
}

/** What the kernel gives hibernation: its processes, and how to bring back one stored before a reload. */
export interface HibernationDeps {
  process(pid: number): Lifecycle | undefined;
  /** Makes the hibernated row of a stored process (false: its module is gone or changed). */
  adopt(record: HibernatedRecord, spawn: CheckedSpawn, info: ModuleInfo): Promise<boolean>;
  lookup(name: string): Promise<ModuleInfo | undefined>;
  /** The bus's shared arena, if the bus runs. */
  bus(): SharedArrayBuffer | undefined;
  /** The bus, if the kernel runs one (its subscriptions are kept in a hibernated record). */
  busApi(): BusApi | undefined;
  /** How many windows the process has open. */
  windows(pid: number): number;
  /** Tells the capabilities of a process parked before the reload (its window is shown again). */
  parked(pid: number, parked: ParkedProcess): void;
  /** Before a resume takes a memory slot: room made by the policy (auto-hibernate.ts), if any. */
  makeRoom(lc: Lifecycle): Promise<void>;
}

/** Checks hibernate options from an untrusted caller. */
export function checkHibernateOptions(opts: unknown): { deadlineMs: number; orRestart: boolean; node?: string } {
  if (opts === undefined) return { deadlineMs: DEFAULT_PARK_DEADLINE_MS, orRestart: false };
  if (typeof opts !== 'object' || opts === null) throw new KernelError('kernel/bad-argument', 'options must be an object');
  const o = opts as Record<string, unknown>;
  const deadlineMs = o.deadlineMs ?? DEFAULT_PARK_DEADLINE_MS;
  if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs < 0 || deadlineMs > 600_000) {
    throw new KernelError('kernel/bad-argument', 'deadlineMs must be a number of milliseconds in [0, 600000]');
  }
  if (o.orRestart !== undefined && typeof o.orRestart !== 'boolean') throw new KernelError('kernel/bad-argument', 'orRestart must be a boolean');
  if (o.node !== undefined && typeof o.node !== 'string') throw new KernelError('kernel/bad-argument', 'node must be a node id');
  return { deadlineMs, orRestart: o.orRestart === true, ...(typeof o.node === 'string' ? { node: o.node } : {}) };
}

export class Hibernation {
  private readonly store: Promise<SnapshotStore>;
  /** Processes with a snapshot stored (so only they cost a deletion when they go). */
  private readonly stored = new Set<number>();
  /** Resumes under way, by pid: a second request joins the first. */
  private readonly resuming = new Map<number, Promise<void>>();

  constructor(dbName: string, private readonly deps: HibernationDeps) {
    this.store = SnapshotStore.open(dbName);
    this.store.catch(() => {}); // each verb reports it
  }

  /** Parks the process, stores its snapshot, and wakes it again when its stdin has something for it. */
  async hibernate(lc: Lifecycle, opts: { deadlineMs: number; orRestart: boolean }): Promise<void> {
    if (lc.row.mode !== 'worker' && lc.busSlots().length > 0) {
      throw new KernelError('migrate/unsupported', 'a process with bus subscriptions is parked in the worker mode only for now', { mode: lc.row.mode });
    }
    // Parking between two calls (ADR 0028) is built for a service's worker only (ADR 0032).
    if (!lc.ready.info.command && lc.row.mode !== 'worker') {
      throw new KernelError('migrate/unsupported', 'a service instance is parked in the worker mode only', { mode: lc.row.mode });
    }
    let snap: Snapshot;
    try {
      snap = await lc.park(opts.deadlineMs, 'hibernating');
    } catch (e) {
      const refused = e instanceof KernelError && (e.code === 'migrate/busy' || e.code === 'migrate/not-migratable');
      if (!refused || !opts.orRestart) throw e;
      await lc.restartNow();
      return;
    }
    const info = lc.ready.info;
    const { stdin: _stdin, ...spawn } = lc.ready.o;
    const record: HibernatedRecord = {
      pid: lc.row.pid,
      module: info.name,
      sha256: info.migratable?.sha256 ?? info.sha256,
      spawn,
      startedAt: lc.row.startedAt,
      incarnation: lc.row.incarnation,
      restarts: lc.row.restarts,
      hibernatedAt: Date.now(),
      memoryBytes: snap.memory.byteLength,
      subscriptions: this.deps.busApi()?.held(lc.row.pid) ?? [],
      ...(this.deps.windows(lc.row.pid) > 0 ? { window: true } : {}),
    };
    try {
      await (await this.store).put(record, snap);
      this.stored.add(record.pid);
    } catch (e) {
      // Not stored: it carries on from the snapshot in hand rather than lose it.
      lc.resume(snap);
      throw e;
    }
    this.wakeOnInput(lc);
  }

  /** Resumes a hibernated process from its stored snapshot; settles once it runs again. */
  resume(lc: Lifecycle): Promise<void> {
    const pid = lc.row.pid;
    let r = this.resuming.get(pid);
    if (r === undefined) {
      r = this.resumeNow(lc).finally(() => this.resuming.delete(pid));
      this.resuming.set(pid, r);
    }
    return r;
  }

  private async resumeNow(lc: Lifecycle): Promise<void> {
    const pid = lc.row.pid;
    if (lc.row.state !== 'hibernated') {
      throw new KernelError('migrate/bad-state', `process ${pid} is ${lc.row.state}, not hibernated`, { pid, state: lc.row.state });
    }
    const store = await this.store;
    const stored = await store.snapshot(pid);
    if (stored === undefined) throw new KernelError('migrate/failed', `no stored snapshot of process ${pid}`, { pid });
    let snap: Snapshot;
    try {
      snap = parseSnapshot(stored);
    } catch {
      throw new KernelError('migrate/failed', `the stored snapshot of process ${pid} is damaged`, { pid });
    }
    await this.deps.makeRoom(lc);
    if (lc.row.state !== 'hibernated') return; // resumed meanwhile (by a second request, or killed)
    lc.resume(snap);
    try {
      await lc.whenRunning();
    } catch (e) {
      // It could not start and is hibernated again (lifecycle.ts), its snapshot still stored:
      // input for it tries again, a while later (memories the browser has yet to let go).
      if (lc.row.state !== 'hibernated') return; // ended meanwhile (killed): nothing to resume
      void sleepUnthrottled(RETRY_RESUME_MS).then(() => this.wakeOnInput(lc));
      throw e;
    }
    // Not waited for: IndexedDB runs a later put for this pid (a next hibernation) after it.
    this.forget(pid);
  }

  /**
   * Moves a running process to a fresh host of `mode`: parked, then resumed from the snapshot in
   * hand; its pid, rings and handle stay, and what is written to it meanwhile waits in its rings.
   * A start that fails ends it as any failed start does (its policy may restart it).
   */
  async move(lc: Lifecycle, mode: ExecutionMode, opts: { deadlineMs: number; orRestart: boolean; node?: string }): Promise<void> {
    if (mode !== 'worker' && mode !== 'iframe' && !(mode === 'remote' && opts.node !== undefined)) {
      throw new KernelError('migrate/unsupported', `a running process moves between worker and iframe, or to another node, only for now, not to "${mode}"`, { mode });
    }
    if (lc.row.mode === 'remote') {
      throw new KernelError('migrate/unsupported', `process ${lc.row.pid} runs on another node: it cannot be parked from here`, { pid: lc.row.pid });
    }
    if (!lc.ready.info.command && mode !== 'worker') {
      throw new KernelError('migrate/unsupported', 'a service instance runs in the worker mode only', { mode });
    }
    // A frame keeps mirrors of the kernel's inboxes that a snapshot does not carry.
    if ((mode !== 'worker' || lc.row.mode !== 'worker') && lc.busSlots().length > 0) {
      throw new KernelError('migrate/unsupported', 'a process with bus subscriptions moves between workers only for now', { mode });
    }
    // A home is served to a worker only (ADR 0025), a picked folder too (ADR 0024).
    const kept = lc.ready.o.homes.length + lc.ready.o.folders.length > 0;
    if (mode !== 'worker' && kept) throw new KernelError('migrate/unsupported', 'a process with a home or a mounted folder runs in worker mode only', { mode });
    let snap: Snapshot;
    try {
      snap = await lc.park(opts.deadlineMs, 'switching');
    } catch (e) {
      const refused = e instanceof KernelError && (e.code === 'migrate/busy' || e.code === 'migrate/not-migratable');
      if (!refused || !opts.orRestart) throw e;
      await lc.restartNow();
      return;
    }
    lc.moveTo(mode, snap, opts.node);
    await lc.whenRunning().catch(() => {});
    if (lc.row.mode !== mode) {
      throw new KernelError('migrate/failed', `process ${lc.row.pid} could not start in "${mode}": it carries on in "${lc.row.mode}"`, { pid: lc.row.pid, mode, rolledBack: true });
    }
  }

  /**
   * Its stored snapshot no longer applies: it was resumed, it ended for good, or it was started
   * afresh (`kernel.restart` of a hibernated process). Else a reload would bring it back.
   */
  forget(pid: number): void {
    if (!this.stored.delete(pid)) return;
    void this.store.then((s) => s.delete(pid)).catch(() => {});
  }

  /**
   * Brings back, hibernated, every process stored before the page was reloaded, or by another
   * page of the app that is gone (ADR 0037); their largest pid.
   */
  async restoreAll(): Promise<number> {
    const store = await this.store;
    // A page that cannot take them over still brings back its own.
    await store.claim().catch(() => 0);
    let top = 0;
    for (const rec of await store.list()) {
      const info = await this.deps.lookup(rec.module);
      const spawn = parseSpawn(rec.spawn);
      // A service's instance comes back as the service's instance (ADR 0036).
      const sameCode = info !== undefined && (info.migratable?.sha256 ?? info.sha256) === rec.sha256;
      if (info === undefined || spawn === undefined || !sameCode || this.deps.process(rec.pid) !== undefined || !(await this.deps.adopt(rec, spawn, info))) {
        // Its module was removed or replaced: the snapshot no longer fits any code.
        await store.delete(rec.pid).catch(() => {});
        continue;
      }
      top = Math.max(top, rec.pid);
      this.stored.add(rec.pid);
      // Before it waits for input: its subscriptions' inboxes are among what wakes it.
      await reopenSubscriptions(store, rec, info, this.deps.busApi()).catch(() => {});
      if (rec.window === true) await this.reshowWindow(store, rec.pid, info).catch(() => {});
      this.wakeOnInput(this.deps.process(rec.pid));
    }
    return top;
  }

  /** A process hibernated with a window open, brought back after a reload: its window again, with its last frame. */
  private async reshowWindow(store: SnapshotStore, pid: number, info: ModuleInfo): Promise<void> {
    const stored = await store.snapshot(pid);
    if (stored === undefined) return;
    const snap = parseSnapshot(stored);
    this.deps.parked(pid, { memory: snap.memory, providers: snap.providers, info, restored: true });
  }

  close(): void {
    void this.store.then((s) => s.close()).catch(() => {});
  }

  /**
   * Resumes it as soon as its stdin holds a byte (or is closed), or a message reaches one of its
   * subscriptions: writing or publishing to a hibernated process wakes it.
   */
  private wakeOnInput(lc: Lifecycle | undefined): void {
    const stdin = lc?.stdinRing();
    if (lc === undefined || stdin === undefined) return;
    const wake = (): void => {
      if (lc.row.state === 'hibernated') void this.resume(lc).catch(() => {});
    };
    void new Ring(stdin).readableWhileOpen().then((r) => {
      if (r === 'ok') wake();
    });
    const bus = this.deps.bus();
    if (bus === undefined) return;
    const arena = new BusArena(bus);
    for (const slot of lc.busSlots()) void arena.waitDoorbellAsync(slot, arena.doorbell(slot)).then(wake);
  }
}

/** How many windows `pid` has open; none in a kernel without graphics. */
export function windowsOf(gfx: () => GfxApi, pid: number): number {
  try {
    return gfx().windows().filter((w) => w.pid === pid).length;
  } catch {
    return 0; // kernel/not-ready: no graphics here
  }
}

/** A stored spawn, checked: what the process is started with again (no stdin: it has its ring). */
function parseSpawn(x: unknown): CheckedSpawn | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const r = x as Record<string, unknown>;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  const ok =
    strings(r.args) &&
    strings(r.env) &&
    strings(r.preopens) &&
    strings(r.homes) &&
    Array.isArray(r.files) &&
    r.files.every((f) => Array.isArray(f) && typeof f[0] === 'string' && f[1] instanceof Uint8Array) &&
    isExecutionMode(r.mode) &&
    typeof r.tty === 'boolean' &&
    (r.restart === undefined || (typeof r.restart === 'object' && r.restart !== null)) &&
    (r.watchdogMs === undefined || typeof r.watchdogMs === 'number');
  if (!ok) return undefined;
  return { ...(r as unknown as CheckedSpawn), stdin: undefined };
}
