/**
 * The kernel: the registry, the process table, and the hosts that run processes. Page scripts
 * reach it as `window.kernel`; its public verbs are the KernelApi of types.ts.
 */
import { openBroadcast, type Broadcast } from '../bus';
import { EXIT_CODES, WorkerHost, type Host, type HostExit } from '../hosts';
import { Ring, allocateRing } from '../ipc';
import { Registry, capMemory } from '../registry';
import { KernelError } from './errors';
import { checkSpawnOptions } from './spawn-options';
import { feed, ringReadable, ringWritable } from './stdio-streams';
import {
  KernelEvents,
  type InstallOptions,
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
  rings?: { stdin?: number; stdout?: number; stderr?: number };
  /** Exited processes kept in the table (default 100). */
  keepExited?: number;
}

/** A module compiled under the memory cap, and the cap in pages that applies to it. */
type Runnable = { module: WebAssembly.Module; maxPages: number } | 'min-exceeds';

const REGISTRY_CHANGED = 'registry-changed';

export class Kernel extends EventTarget implements KernelApi {
  /** Resolves once the kernel can install and spawn; rejects if the registry cannot open. */
  readonly ready: Promise<void>;
  private registry: Registry | undefined;
  private broadcast: Broadcast | undefined;
  private readonly host: Host = new WorkerHost();
  private readonly table = new Map<number, ProcessInfo>();
  private readonly handles = new Map<number, Process>();
  private readonly runnable = new Map<string, Promise<Runnable>>();
  private nextPid = 1;
  private readonly maxPages: number;
  private readonly ringSizes: { stdin: number; stdout: number; stderr: number };
  private readonly keepExited: number;

  constructor(opts: KernelOptions = {}) {
    super();
    this.maxPages = Math.floor(((opts.memoryLimitMiB ?? 512) * 1024 * 1024) / 65536);
    this.ringSizes = { stdin: 256 * 1024, stdout: 1024 * 1024, stderr: 64 * 1024, ...opts.rings };
    this.keepExited = opts.keepExited ?? 100;
    this.ready = this.init(opts.dbName ?? 'webmk');
    this.ready.catch(() => {}); // callers see the rejection through `ready` or any verb
  }

  private async init(dbName: string): Promise<void> {
    this.registry = await Registry.open(dbName);
    this.broadcast = openBroadcast('registry', (data) => {
      if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === REGISTRY_CHANGED) {
        this.emit(KernelEvents.modules);
      }
    });
    // Best effort: ask that the registry survive storage pressure.
    void navigator.storage?.persist?.().catch(() => false);
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
    const { info, module } = await registry.install(bytes, {
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(fileName !== undefined ? { fileName } : {}),
    });
    this.runnable.set(info.sha256, Promise.resolve(this.prepare(bytes, module)));
    this.registryChanged();
    return info;
  }

  /** Removes a module. Rejects with `registry/not-found`. Running processes keep running. */
  async uninstall(name: string): Promise<void> {
    const registry = await this.reg();
    const info = await registry.get(name);
    await registry.uninstall(name);
    if (info !== undefined && !(await registry.list()).some((m) => m.sha256 === info.sha256)) {
      this.runnable.delete(info.sha256);
    }
    this.registryChanged();
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
    const o = checkSpawnOptions(opts);
    if (typeof name !== 'string') throw new KernelError('kernel/bad-argument', 'the module name must be a string');
    const registry = await this.reg();
    if (!globalThis.crossOriginIsolated) {
      throw new KernelError('kernel/not-isolated', 'this page is not cross-origin isolated, so modules cannot run (no SharedArrayBuffer)');
    }
    const info = await registry.get(name);
    if (info === undefined) throw new KernelError('kernel/unknown-module', `no module named "${name}"`, { name });
    const runnable = await this.runnableOf(info);

    const pid = this.nextPid++;
    const rings = {
      stdin: allocateRing(this.ringSizes.stdin),
      stdout: allocateRing(this.ringSizes.stdout),
      stderr: allocateRing(this.ringSizes.stderr),
    };
    const row: ProcessInfo = { pid, name, mode: o.mode, state: 'starting', args: [name, ...o.args], tty: o.tty, startedAt: Date.now() };
    this.table.set(pid, row);

    const hosted =
      runnable === 'min-exceeds'
        ? refused(`its initial memory is over the ${this.maxPages / 16} MiB limit`)
        : this.host.start({ pid, name, ...runnable, args: row.args, env: o.env, preopens: o.preopens, files: o.files, ...rings, tty: o.tty });
    void hosted.running.then(() => {
      if (row.state === 'starting') {
        row.state = 'running';
        this.emit(KernelEvents.processes);
      }
    });
    const exit = hosted.exited.then((e) => this.ended(row, e, rings));
    const stdin = ringWritable(new Ring(rings.stdin));
    const proc: Process = {
      pid,
      stdin,
      stdout: ringReadable(new Ring(rings.stdout)),
      stderr: ringReadable(new Ring(rings.stderr)),
      exit,
      kill: () => hosted.kill(),
    };
    if (o.stdin !== undefined) feed(o.stdin, stdin);
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
    this.prune();
    this.emit(KernelEvents.processes);
    return e.code;
  }

  private prune(): void {
    const exited = [...this.table.values()].filter((p) => p.state === 'exited');
    for (const p of exited.slice(0, Math.max(0, exited.length - this.keepExited))) this.table.delete(p.pid);
  }

  /** The module compiled with the memory cap, cached by content hash. */
  private runnableOf(info: ModuleInfo): Promise<Runnable> {
    let r = this.runnable.get(info.sha256);
    if (r === undefined) {
      r = this.reg()
        .then((reg) => reg.bytes(info.sha256))
        .then((bytes) => this.prepare(bytes, null));
      this.runnable.set(info.sha256, r);
      r.catch(() => this.runnable.delete(info.sha256));
    }
    return r;
  }

  private async prepare(bytes: Uint8Array, compiled: WebAssembly.Module | null): Promise<Runnable> {
    const capped = capMemory(bytes, this.maxPages);
    if (capped === 'min-exceeds') return capped;
    const module = capped.bytes === bytes && compiled !== null ? compiled : await WebAssembly.compile(capped.bytes as Uint8Array<ArrayBuffer>);
    return { module, maxPages: capped.maxPages };
  }

  private registryChanged(): void {
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

async function readSource(source: unknown): Promise<{ bytes: Uint8Array; fileName?: string }> {
  if (source instanceof Uint8Array) return { bytes: source };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source) };
  if (source instanceof Blob) {
    const bytes = new Uint8Array(await source.arrayBuffer());
    return source instanceof File ? { bytes, fileName: source.name } : { bytes };
  }
  throw new KernelError('kernel/bad-argument', 'install takes a Uint8Array, a Blob or a File');
}
