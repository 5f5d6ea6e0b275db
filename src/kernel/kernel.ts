/**
 * The kernel: the process table and the hosts that run processes, on top of the module catalog
 * (catalog.ts) and the capabilities (capabilities.ts). Page scripts reach it as `window.kernel`;
 * its public verbs are the KernelApi of types.ts.
 */
import type { BusApi } from '../bus';
import type { Caller, KernelCapability } from '../capability';
import { EXIT_CODES, KernelError, type ModuleInfo, type ProcessExit, type ProcessInfo } from '../common';
import type { GfxApi } from '../gfx';
import { WorkerHost, type Host } from '../hosts';
import { Ring, allocateRing } from '../ipc';
import { Capabilities } from './capabilities';
import { ModuleCatalog } from './catalog';
import { registerKernelCalls } from './guest-calls';
import type { Runnable } from './runnable';
import { checkSpawnOptions, type CheckedSpawn } from './spawn-options';
import { feed, ringReadable, ringWritable } from './stdio-streams';
import {
  KernelEvents,
  type DeniedAttempt,
  type InstallOptions,
  type KernelApi,
  type PipelineStage,
  type Process,
  type SpawnOptions,
} from './types';

/** How a kernel is set up. */
export interface KernelOptions {
  /** IndexedDB database name (tests use their own). */
  dbName?: string;
  /** Memory cap of each process, in MiB (default 512). */
  memoryLimitMiB?: number;
  /** Ring sizes in bytes, powers of two. */
  rings?: { stdin?: number; stdout?: number; stderr?: number; pipe?: number };
  /** Exited processes kept in the table (default 100). */
  keepExited?: number;
  /** Capabilities to start (see capability/); index.ts passes the standard set. */
  capabilities?: ReadonlyArray<KernelCapability<unknown>>;
}


/** A spawn that passed its checks: what runs, and how. */
interface Ready {
  info: ModuleInfo;
  o: CheckedSpawn;
  runnable: Runnable;
}

/** A stdin the page cannot write: the stage reads the pipe from the stage before it. */
function pipeEnd(what: string): WritableStream<Uint8Array> {
  return new WritableStream({
    write() {
      throw new KernelError('kernel/bad-argument', `this stage's ${what} is a pipe from the stage before it`);
    },
  });
}

export class Kernel extends EventTarget implements KernelApi {
  /** Resolves once the kernel can install and spawn; rejects if the registry cannot open. */
  readonly ready: Promise<void>;
  private readonly catalog: ModuleCatalog;
  private readonly caps: Capabilities;
  private readonly host: Host = new WorkerHost();
  private readonly table = new Map<number, ProcessInfo>();
  private readonly handles = new Map<number, Process>();
  private nextPid = 1;
  private readonly maxPages: number;
  private readonly ringSizes: { stdin: number; stdout: number; stderr: number; pipe: number };
  private readonly keepExited: number;

  constructor(opts: KernelOptions = {}) {
    super();
    this.maxPages = Math.floor(((opts.memoryLimitMiB ?? 512) * 1024 * 1024) / 65536);
    this.ringSizes = { stdin: 256 * 1024, stdout: 1024 * 1024, stderr: 64 * 1024, pipe: 1024 * 1024, ...opts.rings };
    this.keepExited = opts.keepExited ?? 100;
    this.catalog = new ModuleCatalog(opts.dbName ?? 'webmk', this.maxPages, () => this.emit(KernelEvents.modules));
    this.ready = this.catalog.ready;
    this.caps = new Capabilities({ kill: (pid) => this.kill(pid), process: (pid) => this.table.get(pid), emit: (type) => this.emit(type) });
    registerKernelCalls(this.caps.calls, {
      modules: () => this.modules(),
      processes: () => this.processes(),
      spawn: (n, o) => this.spawn(n, o),
      kill: (pid) => this.kill(pid),
      denied: (caller, permission) => this.caps.deny(caller, permission),
    });
    this.caps.start(opts.capabilities ?? []);
    this.ready.catch(() => {}); // callers see the rejection through `ready` or any verb
  }

  /**
   * Validates and stores a module (replacing one of the same name). Settles after the registry
   * transaction committed. Rejects with `registry/empty`, `registry/not-wasm`,
   * `registry/truncated`, `registry/invalid-wasm`, `registry/invalid-manifest`,
   * `registry/invalid-name`, `registry/quota`, `registry/storage`, `kernel/bad-argument`.
   */
  install(source: Uint8Array | Blob | File, opts: InstallOptions = {}): Promise<ModuleInfo> {
    return this.catalog.install(source, opts);
  }

  /** Removes a module. Rejects with `registry/not-found`. Running processes keep running. */
  uninstall(name: string): Promise<void> {
    return this.catalog.uninstall(name);
  }

  /**
   * Sets what a module is granted of what its manifest asks (`'all'`, or a list such as
   * `['publish:sensors/temp']`); granting less revokes. Applies to processes spawned after it.
   * Rejects with `registry/not-found`, `kernel/bad-argument`.
   */
  grant(name: string, permissions: 'all' | string[]): Promise<ModuleInfo> {
    return this.catalog.grant(name, permissions);
  }

  /** Every installed module, by name. */
  modules(): Promise<ModuleInfo[]> {
    return this.catalog.list();
  }

  /**
   * Starts a module in its own worker. Settles once the process exists (before it runs).
   * Rejects with `kernel/unknown-module`, `kernel/bad-argument`, `kernel/not-isolated`.
   */
  async spawn(name: string, opts?: SpawnOptions): Promise<Process> {
    const ready = await this.ready4spawn(name, opts);
    const proc = this.launch(ready, {});
    if (ready.o.stdin !== undefined) feed(ready.o.stdin, proc.stdin);
    return proc;
  }

  /**
   * Runs `a | b | c`: each stage's stdout feeds the next stage's stdin through a ring shared by
   * the two workers (no hop through the page). The first stage reads `opts.stdin` (or its
   * `stdin` stream); the last stage's `stdout` is the pipeline's output. Every module is looked
   * up before any starts. Rejects like `spawn`.
   */
  async pipeline(stages: PipelineStage[], opts: { stdin?: Uint8Array | ReadableStream<Uint8Array> } = {}): Promise<Process[]> {
    if (!Array.isArray(stages) || stages.length === 0) throw new KernelError('kernel/bad-argument', 'a pipeline needs at least one stage');
    const first = checkSpawnOptions({ stdin: opts.stdin });
    const ready = await Promise.all(
      stages.map((st, i) => {
        if (typeof st !== 'object' || st === null) throw new KernelError('kernel/bad-argument', `stage ${i} must be an object`);
        return this.ready4spawn(st.name, { ...(st.args !== undefined ? { args: st.args } : {}), ...(st.env !== undefined ? { env: st.env } : {}) });
      }),
    );
    const pipes = stages.slice(1).map(() => allocateRing(this.ringSizes.pipe));
    const procs = ready.map((r, i) => this.launch(r, { stdin: pipes[i - 1], stdout: pipes[i] }));
    if (first.stdin !== undefined && procs[0] !== undefined) feed(first.stdin, procs[0].stdin);
    return procs;
  }

  /** Checks a spawn and finds what it runs, before anything starts. */
  private async ready4spawn(name: unknown, opts: unknown): Promise<Ready> {
    const o = checkSpawnOptions(opts);
    if (typeof name !== 'string') throw new KernelError('kernel/bad-argument', 'the module name must be a string');
    if (!globalThis.crossOriginIsolated) {
      throw new KernelError('kernel/not-isolated', 'this page is not cross-origin isolated, so modules cannot run (no SharedArrayBuffer)');
    }
    const info = await this.catalog.lookup(name);
    if (info === undefined) throw new KernelError('kernel/unknown-module', `no module named "${name}"`, { name });
    const runnable = await this.catalog.runnable(info);
    return { info, o, runnable };
  }

  /**
   * Creates the process: its row, its rings (or the pipes it is given), its host process.
   * A stdin or stdout given as a pipe belongs to the neighbouring stage, not to the page.
   */
  private launch({ info, o, runnable }: Ready, pipes: { stdin?: SharedArrayBuffer | undefined; stdout?: SharedArrayBuffer | undefined }): Process {
    const pid = this.nextPid++;
    const name = info.name;
    const rings = {
      stdin: pipes.stdin ?? allocateRing(this.ringSizes.stdin),
      stdout: pipes.stdout ?? allocateRing(this.ringSizes.stdout),
      stderr: allocateRing(this.ringSizes.stderr),
    };
    const row: ProcessInfo = { pid, name, mode: o.mode, state: 'starting', args: [name, ...o.args], tty: o.tty, startedAt: Date.now() };
    this.table.set(pid, row);
    this.caps.spawned(pid, info);
    const caller: Caller = { pid, name, grants: info.grants };
    const hosted =
      runnable === 'min-exceeds'
        ? refused(`its initial memory is over the ${this.maxPages / 16} MiB limit`)
        : this.host.start({
            pid,
            name,
            ...runnable,
            args: row.args,
            env: o.env,
            preopens: o.preopens,
            files: o.files,
            ...rings,
            stdoutIsPipe: pipes.stdout !== undefined,
            tty: o.tty,
            grants: info.grants,
            shared: this.caps.shared,
            onCall: (call, args) => this.caps.calls.dispatch(caller, call, args),
          });
    void hosted.running.then(() => {
      if (row.state === 'starting') {
        row.state = 'running';
        this.emit(KernelEvents.processes);
      }
    });
    const exit = hosted.exited.then((e) => this.ended(row, e, rings));
    const proc: Process = {
      pid,
      stdin: pipes.stdin === undefined ? ringWritable(new Ring(rings.stdin)) : pipeEnd('stdin'),
      stdout: pipes.stdout === undefined ? ringReadable(new Ring(rings.stdout)) : new ReadableStream({ start: (c) => c.close() }),
      stderr: ringReadable(new Ring(rings.stderr)),
      exit,
      kill: () => hosted.kill(),
    };
    this.handles.set(pid, proc);
    this.emit(KernelEvents.processes);
    return proc;
  }

  /** The process table: running processes and the most recent exited ones. */
  processes(): ProcessInfo[] {
    return [...this.table.values()].map((p) => ({ ...p, args: [...p.args] }));
  }

  /** Ends a process by pid (the shell's process list uses it). Rejects with `kernel/unknown-process`. */
  async kill(pid: number): Promise<void> {
    const proc = this.handles.get(pid);
    if (proc === undefined) {
      if (this.table.has(pid)) return;
      throw new KernelError('kernel/unknown-process', `no process ${pid}`, { pid });
    }
    await proc.kill();
  }

  /** Ends every process and closes the registry. */
  dispose(): void {
    this.host.dispose();
    this.catalog.close();
  }

  /** The most recent refused attempts (at most 100), oldest first. */
  denied(): DeniedAttempt[] {
    return this.caps.denied();
  }

  /** The pub/sub bus (`kernel.bus`). */
  get bus(): BusApi {
    return this.caps.api<BusApi>('bus', 'a bus');
  }

  /** Module windows (`kernel.gfx`). */
  get gfx(): GfxApi {
    return this.caps.api<GfxApi>('gfx', 'graphics');
  }

  private ended(row: ProcessInfo, e: ProcessExit, rings: Record<'stdin' | 'stdout' | 'stderr', SharedArrayBuffer>): number {
    // The worker closes its ends on every exit it sees; a kill gives it no chance.
    new Ring(rings.stdout).closeWriter();
    new Ring(rings.stderr).closeWriter();
    new Ring(rings.stdin).closeReader();
    row.state = 'exited';
    row.endedAt = Date.now();
    row.exitCode = e.code;
    row.reason = e.reason;
    if (e.message !== undefined) row.message = e.message;
    this.handles.delete(row.pid);
    this.caps.exited(row);
    this.prune();
    this.emit(KernelEvents.processes);
    return e.code;
  }

  private prune(): void {
    const exited = [...this.table.values()].filter((p) => p.state === 'exited');
    for (const p of exited.slice(0, Math.max(0, exited.length - this.keepExited))) this.table.delete(p.pid);
  }

  private emit(type: string): void {
    this.dispatchEvent(new Event(type));
  }
}

/** A host-less process that exits at once with a memory refusal. */
function refused(message: string): { running: Promise<void>; exited: Promise<ProcessExit>; kill: () => Promise<void> } {
  const exited = Promise.resolve<ProcessExit>({ code: EXIT_CODES['memory-exceeded'], reason: 'memory-exceeded', message });
  return { running: new Promise(() => {}), exited, kill: async () => {} };
}
