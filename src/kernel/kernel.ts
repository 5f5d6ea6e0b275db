/**
 * The kernel: the registry, the process table, and the hosts that run processes. Page scripts
 * reach it as `window.kernel`; its public verbs are the KernelApi of types.ts.
 */
import { openBroadcast, type Broadcast, type BusApi } from '../bus';
import type { GfxApi } from '../gfx';
import { EXIT_CODES, WorkerHost, type Host, type HostExit } from '../hosts';
import { Ring, allocateRing } from '../ipc';
import { Registry } from '../registry';
import { KernelError } from './errors';
import { grantsFrom } from './permissions';
import { checkSpawnOptions, type CheckedSpawn } from './spawn-options';
import { CallTable, type Caller } from './calls';
import { RunnableCache, type Runnable } from './runnable';
import type { Service, ServiceHost } from './services';
import { registerKernelCalls } from './guest-calls';
import { feed, ringReadable, ringWritable } from './stdio-streams';
import {
  KernelEvents,
  type DeniedAttempt,
  type InstallOptions,
  type PipelineStage,
  type KernelApi,
  type ModuleInfo,
  type Process,
  type ProcessInfo,
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
  /** Capability areas to start (see services.ts); index.ts passes the standard set. */
  services?: ReadonlyArray<Service<unknown>>;
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

const REGISTRY_CHANGED = 'registry-changed';

export class Kernel extends EventTarget implements KernelApi {
  /** Resolves once the kernel can install and spawn; rejects if the registry cannot open. */
  readonly ready: Promise<void>;
  private registry: Registry | undefined;
  private broadcast: Broadcast | undefined;
  private readonly host: Host = new WorkerHost();
  private readonly table = new Map<number, ProcessInfo>();
  private readonly handles = new Map<number, Process>();
  private readonly runnable: RunnableCache;
  private catalog: Promise<Map<string, ModuleInfo>> | null = null;
  private nextPid = 1;
  private readonly maxPages: number;
  private readonly ringSizes: { stdin: number; stdout: number; stderr: number; pipe: number };
  /** Guest calls into the kernel, by name; services add theirs. */
  readonly calls = new CallTable();
  /** Shared memory every process gets (service name to buffer). */
  private readonly shared: Record<string, SharedArrayBuffer> = {};
  private readonly exitListeners: Array<(p: ProcessInfo) => void> = [];
  private readonly spawnListeners: Array<(pid: number, info: ModuleInfo) => void> = [];
  private readonly deniedLog: DeniedAttempt[] = [];
  /** The services' APIs by name (e.g. `bus`, `gfx`). */
  protected readonly services: Record<string, unknown> = {};
  private readonly keepExited: number;

  constructor(opts: KernelOptions = {}) {
    super();
    this.maxPages = Math.floor(((opts.memoryLimitMiB ?? 512) * 1024 * 1024) / 65536);
    this.runnable = new RunnableCache(this.maxPages);
    this.ringSizes = { stdin: 256 * 1024, stdout: 1024 * 1024, stderr: 64 * 1024, pipe: 1024 * 1024, ...opts.rings };
    this.keepExited = opts.keepExited ?? 100;
    this.ready = this.init(opts.dbName ?? 'webmk');
    const host = this.serviceHost();
    registerKernelCalls(this.calls, { ...host, modules: () => this.modules(), processes: () => this.processes(), spawn: (n, o) => this.spawn(n, o) });
    for (const service of opts.services ?? []) this.services[service.name] = service.start(host);
    this.ready.catch(() => {}); // callers see the rejection through `ready` or any verb
  }

  private async init(dbName: string): Promise<void> {
    this.registry = await Registry.open(dbName);
    this.broadcast = openBroadcast('registry', (data) => {
      if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === REGISTRY_CHANGED) {
        this.catalog = null;
        this.emit(KernelEvents.modules);
      }
    });
    // Best effort: ask that the registry survive storage pressure.
    void navigator.storage?.persist?.().catch(() => false);
  }

  /**
   * Module records by name, read from the registry once and dropped on every change (here or in
   * another tab), so a spawn does not wait for IndexedDB.
   */
  private async lookup(name: string): Promise<ModuleInfo | undefined> {
    if (this.catalog === null) {
      const registry = await this.reg();
      const loading = registry.list().then((list) => new Map(list.map((m) => [m.name, m])));
      this.catalog = loading;
      loading.catch(() => {
        if (this.catalog === loading) this.catalog = null;
      });
    }
    return (await this.catalog).get(name);
  }

  private async reg(): Promise<Registry> {
    await this.ready;
    if (this.registry === undefined) throw new KernelError('kernel/not-ready', 'the kernel is not ready');
    return this.registry;
  }

  /**
   * Validates and stores a module (replacing one of the same name). Settles after the registry
   * transaction committed. Rejects with `registry/empty`, `registry/not-wasm`,
   * `registry/truncated`, `registry/invalid-wasm`, `registry/invalid-manifest`,
   * `registry/invalid-name`, `registry/quota`, `registry/storage`, `kernel/bad-argument`.
   */
  async install(source: Uint8Array | Blob | File, opts: InstallOptions = {}): Promise<ModuleInfo> {
    const registry = await this.reg();
    const { bytes, fileName } = await readSource(source);
    if (opts.name !== undefined && typeof opts.name !== 'string') {
      throw new KernelError('kernel/bad-argument', 'name must be a string');
    }
    const grant = checkGrant(opts.grant);
    const { info, module } = await registry.install(bytes, {
      ...(grant !== undefined ? { grant } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(fileName !== undefined ? { fileName } : {}),
    });
    this.runnable.remember(info.sha256, bytes, module);
    this.registryChanged();
    return info;
  }

  /** Removes a module. Rejects with `registry/not-found`. Running processes keep running. */
  async uninstall(name: string): Promise<void> {
    const registry = await this.reg();
    const info = await registry.get(name);
    await registry.uninstall(name);
    if (info !== undefined && !(await registry.list()).some((m) => m.sha256 === info.sha256)) {
      this.runnable.forget(info.sha256);
    }
    this.registryChanged();
  }

  /**
   * Sets what a module is granted of what its manifest asks (`'all'`, or a list such as
   * `['publish:sensors/temp']`); granting less revokes. Applies to processes spawned after it.
   * Rejects with `registry/not-found`, `kernel/bad-argument`.
   */
  async grant(name: string, permissions: 'all' | string[]): Promise<ModuleInfo> {
    const registry = await this.reg();
    const given = checkGrant(permissions) ?? [];
    const info = await registry.get(name);
    if (info === undefined) throw new KernelError('registry/not-found', `no module named "${name}"`, { name });
    const updated = await registry.setGrants(name, grantsFrom(info.requested, given));
    this.registryChanged();
    return updated;
  }

  /** Every installed module, by name. */
  async modules(): Promise<ModuleInfo[]> {
    return (await this.reg()).list();
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
    const info = await this.lookup(name);
    if (info === undefined) throw new KernelError('kernel/unknown-module', `no module named "${name}"`, { name });
    const runnable = await this.runnable.get(info.sha256, async () => (await this.reg()).bytes(info.sha256));
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
    for (const listener of this.spawnListeners) listener(pid, info);
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
            shared: this.shared,
            onCall: (call, args) => this.calls.dispatch(caller, call, args),
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
    this.broadcast?.close();
    this.registry?.close();
  }

  private serviceHost(): ServiceHost {
    return {
      calls: this.calls,
      share: (name, sab) => {
        this.shared[name] = sab;
      },
      onExit: (listener) => this.exitListeners.push(listener),
      onSpawn: (listener) => this.spawnListeners.push(listener),
      kill: (pid) => this.kill(pid),
      process: (pid) => this.table.get(pid),
      emit: (type) => this.emit(type),
      denied: (caller, permission) => {
        this.deniedLog.push({ pid: caller.pid, name: caller.name, permission, at: Date.now() });
        if (this.deniedLog.length > 100) this.deniedLog.shift();
        this.emit(KernelEvents.denied);
      },
    };
  }

  /** The most recent refused attempts (at most 100), oldest first. */
  denied(): DeniedAttempt[] {
    return this.deniedLog.map((d) => ({ ...d }));
  }

  /** The pub/sub bus (`kernel.bus`). */
  get bus(): BusApi {
    const bus = this.services.bus;
    if (bus === undefined) throw new KernelError('kernel/not-ready', 'this kernel runs without a bus');
    return bus as BusApi;
  }

  /** Module windows (`kernel.gfx`). */
  get gfx(): GfxApi {
    const gfx = this.services.gfx;
    if (gfx === undefined) throw new KernelError('kernel/not-ready', 'this kernel runs without graphics');
    return gfx as GfxApi;
  }

  private ended(row: ProcessInfo, e: HostExit, rings: Record<'stdin' | 'stdout' | 'stderr', SharedArrayBuffer>): number {
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
    for (const listener of this.exitListeners) {
      try {
        listener(row);
      } catch (e) {
        console.error('a service failed on process exit', e);
      }
    }
    this.prune();
    this.emit(KernelEvents.processes);
    return e.code;
  }

  private prune(): void {
    const exited = [...this.table.values()].filter((p) => p.state === 'exited');
    for (const p of exited.slice(0, Math.max(0, exited.length - this.keepExited))) this.table.delete(p.pid);
  }

  private registryChanged(): void {
    this.catalog = null;
    this.broadcast?.post({ type: REGISTRY_CHANGED });
    this.emit(KernelEvents.modules);
  }

  private emit(type: string): void {
    this.dispatchEvent(new Event(type));
  }
}

/** A host-less process that exits at once with a memory refusal. */
function refused(message: string): { running: Promise<void>; exited: Promise<HostExit>; kill: () => Promise<void> } {
  const exited = Promise.resolve<HostExit>({ code: EXIT_CODES['memory-exceeded'], reason: 'memory-exceeded', message });
  return { running: new Promise(() => {}), exited, kill: async () => {} };
}

function checkGrant(g: unknown): 'all' | string[] | undefined {
  if (g === undefined || g === 'all') return g;
  if (Array.isArray(g) && g.every((x) => typeof x === 'string')) return g;
  throw new KernelError('kernel/bad-argument', "grant must be 'all' or a list of permissions");
}

async function readSource(source: unknown): Promise<{ bytes: Uint8Array; fileName?: string }> {
  if (source instanceof Uint8Array) return { bytes: source };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source) };
  if (source instanceof Blob) {
    const bytes = new Uint8Array(await source.arrayBuffer());
    return source instanceof File ? { bytes, fileName: source.name } : { bytes };
  }
  throw new KernelError('kernel/bad-argument', 'install takes a Uint8Array, a Blob or a File');
}
