/**
 * The kernel: the process table and the hosts that run processes, on top of the module catalog
 * (catalog.ts) and the capabilities (capabilities.ts). Page scripts reach it as `window.kernel`;
 * its public verbs are the KernelApi of types.ts.
 */
import type { BusApi } from '../bus';
import type { KernelCapability } from '../capability';
import { KernelError, serviceSettings, type ExecutionMode, type ModuleConfig, type ModuleInfo, type ProcessInfo } from '../common';
import type { GfxApi } from '../gfx';
import type { KvApi } from '../kv';
import { IframeHost, InpageHost, NO_HOST_RESOURCES, WorkerHost, type Host, type HostResources } from '../hosts';
import { allocateRing, feed, type Snapshot } from '../ipc';
import { homeDirectory, type HibernatedRecord } from '../registry';
import { runAutostart } from './autostart';
import { Capabilities } from './capabilities';
import { ModuleCatalog } from './catalog';
import { registerKernelCalls } from './guest-calls';
import { SERVICE_RESTART, Services, registerServiceCalls } from './services';
import { pluginReady, registerExtismCalls } from './extism';
import { instanceGroup } from './instance-group';
import { registerHomeCalls } from './home-calls';
import { registerHostFunctionCalls } from './host-functions';
import type { HostFunction } from './current-plugin';
import type { ExtismManifest } from './extism-manifest';
import { Providers, registerImportCalls, type ProvidedFunction } from './providers';
import { Transforms } from './transforms';
import { loadMounts, mountTable, type MountTable } from './mounts';
import { AutoHibernate, checkAutoHibernate, type AutoHibernatePolicy } from './auto-hibernate';
import { Hibernation, checkHibernateOptions, windowsOf, type HibernateOptions } from './hibernate';
import { Lifecycle, memoriesOf, type Continuing, type LifecycleDeps, type Ready, type Rings } from './lifecycle';
import { packageInfos } from './packages';
import { moveOnto } from './updates';
import type { PackageInfo } from './types';
import { Pacer } from './pacer';
import { MemorySlots, slotOf, spaceOf, type AddressSpace, type SlotUse } from './memory-slots';
import { effectiveSpawn } from './spawn-config';
import { checkSpawnOptions, type CheckedSpawn } from './spawn-options';
import { checkRemoteMove, relocate, remoteReady, startRemote } from './remote-mode';
import type { Link, NodeInfo, Remote, RemoteOptions } from '../remote';
import { RemoteRequests, type RemoteAnswer, type RemoteRequest } from './remote-requests';
import {
  KernelEvents,
  type AutostartResult,
  type CallOptions,
  type StateChange,
  type DeniedAttempt,
  type InstallOptions,
  type KernelApi,
  type KernelResources,
  type PipelineStage,
  type Process,
  type ServiceStats,
  type SpawnOptions,
  type TrustApi,
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
  /** Remote mode: this node's name, whether to find the app's other tabs (default: yes). */
  remote?: Omit<RemoteOptions, 'namespace'>;
}

/** How much of one page task starts may take, ms. */
const START_BUDGET_MS = 8;

export class Kernel extends EventTarget implements KernelApi {
  /** Resolves once the kernel can install and spawn; rejects if the registry cannot open. */
  readonly ready: Promise<void>;
  private readonly catalog: ModuleCatalog;
  private readonly caps: Capabilities;
  /** The host of each execution mode, made when first used. */
  private readonly hosts = new Map<ExecutionMode, Host>();
  /** Every process the table shows, by pid: running, waiting to restart, or recently exited. */
  private readonly procs = new Map<number, Lifecycle>();
  private readonly slots = new MemorySlots();
  /** Starts run at most this many ms of one page task; the rest go to later tasks (pacer.ts). */
  private readonly pacer = new Pacer(START_BUDGET_MS);
  private nextPid = 1;
  private readonly maxPages: number;
  private readonly ringSizes: { stdin: number; stdout: number; stderr: number; pipe: number };
  private readonly keepExited: number;
  private readonly lifecycleDeps: LifecycleDeps;
  /** The home and picked folders of each process spawned with them: only they may call `home.*`. */
  private readonly mounted = new Map<number, MountTable>();
  private autostarting: Promise<AutostartResult[]> | undefined;
  private autostartResults: AutostartResult[] | undefined;
  private readonly services: Services;
  private readonly providers: Providers;
  /** Trusted rewrites of a lone wasm module's bytes at install (`kernel.transforms`). */
  readonly transforms = new Transforms(() => this.emit(KernelEvents.transforms));
  private readonly remote: Remote;
  private readonly hibernation: Hibernation;
  private readonly auto: AutoHibernate;
  /** Devices' requests to run modules here, waiting for the person (`remoteRequests`). */
  private readonly requests = new RemoteRequests(() => this.emit(KernelEvents.remoterequest));

  constructor(opts: KernelOptions = {}) {
    super();
    this.maxPages = Math.floor(((opts.memoryLimitMiB ?? 512) * 1024 * 1024) / 65536);
    this.ringSizes = { stdin: 256 * 1024, stdout: 1024 * 1024, stderr: 64 * 1024, pipe: 1024 * 1024, ...opts.rings };
    this.keepExited = opts.keepExited ?? 100;
    this.catalog = new ModuleCatalog(opts.dbName ?? 'webmk', this.maxPages, () => this.emit(KernelEvents.modules));
    this.hibernation = new Hibernation(opts.dbName ?? 'webmk', {
      process: (pid) => this.procs.get(pid),
      lookup: (name) => this.catalog.lookup(name),
      adopt: (rec, spawn, info) => this.adopt(rec, spawn, info),
      bus: () => this.caps.shared.bus,
      busApi: () => this.caps.shared.bus && this.bus,
      windows: (pid) => windowsOf(() => this.gfx, pid),
      parked: (pid, parked) => this.caps.parked(pid, parked),
      makeRoom: (lc) => this.auto.makeRoom(spaceOf(lc.row.mode), 1, lc.row.pid),
    });
    this.auto = new AutoHibernate({ processes: () => this.procs.values(), slots: this.slots, hibernate: (lc, o) => this.hibernation.hibernate(lc, o) });
    // Processes hibernated before a reload are back in the table (and their pids taken) before anything spawns.
    this.catalog.transform = (bytes, name) => this.transforms.apply(bytes, name);
    this.ready = this.catalog.ready.then(async () => {
      const top = await this.hibernation.restoreAll().catch(() => 0);
      this.nextPid = Math.max(this.nextPid, top + 1);
    });
    this.caps = new Capabilities({
      kill: (pid) => this.kill(pid),
      process: (pid) => this.procs.get(pid)?.row,
      emit: (type) => this.emit(type),
      wake: (pid) => {
        const lc = this.procs.get(pid);
        if (lc?.row.state === 'hibernated') void this.hibernation.resume(lc).catch(() => {});
      },
    });
    registerKernelCalls(this.caps.calls, {
      modules: () => this.modules(),
      processes: () => this.processes(),
      spawn: (n, o) => this.spawn(n, o),
      kill: (pid) => this.kill(pid),
      denied: (caller, permission) => this.caps.deny(caller, permission),
    });
    this.services = new Services({
      start: (name) => this.startService(name),
      resume: (lc) => this.hibernation.resume(lc),
      lookup: async (name) => {
        await this.ready;
        return this.catalog.lookup(name);
      },
      denied: (caller, permission) => this.caps.deny(caller, permission),
      directCaller: (pid) => this.procs.get(pid)?.row.mode === 'worker',
      remoteCall: (node, module, fn, input, timeoutMs) => this.remote.call(node, module, fn, input, timeoutMs),
    });
    registerServiceCalls(this.caps.calls, this.services);
    registerExtismCalls(this.caps.calls, (n) => this.catalog.lookup(n), (caller, permission) => this.caps.deny(caller, permission));
    // Direct service calls (ADR 0027): every process gets the call space; a change to what is installed or granted ends the paths given.
    this.caps.host.share('calls', this.services.direct.space.sab);
    this.caps.host.onEnd((row) => this.services.direct.callerEnded(row.pid));
    this.addEventListener(KernelEvents.modules, () => this.services.direct.invalidate());
    this.providers = new Providers(this.services, (caller, permission) => this.caps.deny(caller, permission));
    registerImportCalls(this.caps.calls, this.providers);
    registerHostFunctionCalls(this.caps.calls, this.providers, this.catalog, (caller, permission) => this.caps.deny(caller, permission));
    registerHomeCalls(
      this.caps.calls,
      (pid, mount) => (this.procs.get(pid)?.row.state !== 'exited' ? this.mounted.get(pid)?.get(mount ?? '') : undefined),
      ({ pid, name }, path, mount) => this.dispatchEvent(new CustomEvent(KernelEvents.nospace, { detail: { pid, name, path, ...(mount !== undefined ? { mount } : {}) } })),
    );
    this.caps.start(opts.capabilities ?? []);
    this.lifecycleDeps = {
      host: (mode) => this.host(mode),
      caps: this.caps,
      maxPages: this.maxPages,
      slots: this.slots,
      changed: (row, reason) => {
        const detail: StateChange = { pid: row.pid, name: row.name, state: row.state, reason, incarnation: row.incarnation };
        this.auto.seen(row.pid, row.state);
        if (row.state === 'starting') this.hibernation.forget(row.pid);
        this.dispatchEvent(new CustomEvent(KernelEvents.statechange, { detail }));
        this.emit(KernelEvents.processes);
      },
      gone: (row) => {
        this.mounted.delete(row.pid);
        this.hibernation.forget(row.pid);
        this.prune();
      },
      uses: this.catalog,
      relocate: (ready, fallback) => relocate(this.remote, ready, fallback, { lookup: (n) => this.catalog.lookup(n), runnable: (i) => this.catalog.runnable(i), pkg: (n) => this.packageOf(n) }),
    };
    this.remote = startRemote(
      { namespace: opts.dbName ?? 'webmk', ...opts.remote },
      {
        lookup: async (name) => {
          await this.ready;
          return this.catalog.lookup(name);
        },
        spawn: (name, o) => this.spawn(name, o),
        resume: (name, o, snapshot, sha256) => this.resumeHere(name, o, snapshot, sha256),
        bus: () => {
          try {
            return this.bus;
          } catch {
            return undefined; // a kernel started without the bus capability
          }
        },
        row: (pid) => this.procs.get(pid)?.row,
        processesChanged: () => this.emit(KernelEvents.processes),
        admit: (link, module, at, bytes) => this.requests.admit(link, module, at, bytes),
        // The person there allowed it (remote-requests.ts): that is the agreement an unsigned package needs.
        install: async (pkg) => [await this.install(pkg, { untrusted: true })].flat(),
        windows: () => {
          try {
            return this.gfx;
          } catch {
            return undefined; // a kernel started without graphics
          }
        },
        call: (module, fn, input, timeoutMs) => this.call(module, fn, input, { timeoutMs }),
        nodesChanged: (gone) => this.dispatchEvent(new CustomEvent(KernelEvents.nodes, { detail: gone === undefined ? {} : { gone } })),
      },
    );
    this.ready.catch(() => {}); // callers see the rejection through `ready` or any verb
  }

  /**
   * Validates and stores a module (replacing one of the same name). Settles after the registry
   * transaction committed. Rejects with `registry/empty`, `registry/not-wasm`,
   * `registry/truncated`, `registry/invalid-wasm`, `registry/invalid-manifest`,
   * `registry/invalid-name`, `registry/quota`, `registry/storage`, `kernel/bad-argument`. A
   * package (a zip) is checked whole and stored with all its modules or none; it resolves to its
   * modules' records, and also rejects with `registry/invalid-package`, `registry/missing-file`,
   * `registry/duplicate-name`, `registry/unsafe-path`, `registry/too-large`, `registry/owned`,
   * `registry/missing-dependency`, `registry/has-dependents` (an update out of a dependent's range,
   * unless `force`), `registry/bad-signature`, `registry/untrusted`. A string is a URL (http or
   * https, relative to the page) fetched first: `registry/fetch-failed` (network, CORS, an HTTP
   * error), `registry/too-large` (past 128 MiB), with `onProgress` called as it downloads.
   * An Extism manifest (`{ wasm: [...] }`) installs its files as a package (extism-manifest.ts):
   * also `registry/bad-hash` (a file unlike its `hash`) and `kernel/unsupported` (a `path`).
   * Running supervised processes of its modules then move onto it at a safe moment (updates.ts).
   */
  async install(source: Uint8Array | Blob | File | string | ExtismManifest, opts: InstallOptions = {}): Promise<ModuleInfo | ModuleInfo[]> {
    const installed = await this.catalog.install(source, opts);
    // Running processes of its modules move onto the new version at their own pace (updates.ts).
    const deps = { processes: () => this.procs.values(), runnable: (i: ModuleInfo) => this.catalog.runnable(i), caps: this.caps, serviceUpdated: (n: string) => this.services.updated(n) };
    void moveOnto(Array.isArray(installed) ? installed : [installed], deps).catch((e: unknown) => console.error('an update could not move its processes', e));
    return installed;
  }

  /**
   * A package as a zip: its webmk.json and webmk.sig as installed and its modules' bytes, so it
   * installs again as it was (same modules, same signature). Rejects with `registry/not-found`.
   */
  exportPackage(name: string): Promise<Uint8Array> {
    return this.catalog.exportPackage(name);
  }

  /**
   * Removes a module's package (every module of it), or the package of that name. Rejects with
   * `registry/not-found`, `registry/has-dependents` (unless `force`). Running processes keep running.
   */
  async uninstall(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.catalog.uninstall(name, opts);
  }

  /** Every package, with its modules' status, its signature state and its dependents. */
  async packages(): Promise<PackageInfo[]> {
    const [records, modules, keys] = await Promise.all([this.catalog.packages(), this.catalog.list(), this.catalog.trustedKeys()]);
    return packageInfos(records, modules, this.processes(), keys);
  }

  /** The publisher keys the person trusts (`kernel.trust`). */
  readonly trust: TrustApi = {
    add: (publicKey, opts) => this.catalog.trustKey(publicKey, opts?.label),
    list: () => this.catalog.trustedKeys(),
    remove: (publicKey) => this.catalog.distrustKey(publicKey),
  };

  /**
   * Sets what a module is granted of what its manifest asks (`'all'`, or a list such as
   * `['publish:sensors/temp']`); granting less revokes. Applies to processes spawned after it.
   * Rejects with `registry/not-found`, `kernel/bad-argument`.
   */
  grant(name: string, permissions: 'all' | string[]): Promise<ModuleInfo> {
    return this.catalog.grant(name, permissions);
  }

  /**
   * Replaces a module's stored configuration (`{}` clears it): `mode`, `restart`, `watchdogMs`,
   * `autostart`, `startOrder`, `args`. It applies from the module's next start, under the spawn's
   * own options and over the manifest's. Settles after the registry transaction committed.
   * Rejects with `kernel/bad-argument` (nothing stored), `registry/not-found`.
   */
  configure(name: string, config: ModuleConfig): Promise<ModuleInfo> {
    return this.catalog.configure(name, config);
  }

  /**
   * Starts the modules whose configuration (else manifest) says `autostart: true`, in ascending
   * `startOrder` (ties by name), each spawn settled before the next, with their configured args.
   * Runs once per kernel: a later call gets the same promise. Settles when every one has started
   * or failed, with what each did (a failure does not stop the others); then `autostarted()`
   * returns it and an `autostart` event carries it. Rejects only if the registry cannot open.
   */
  autostart(): Promise<AutostartResult[]> {
    this.autostarting ??= this.ready
      .then(() => runAutostart({ modules: () => this.modules(), spawn: (n, o) => this.spawn(n, o), processes: () => this.processes() }))
      .then((results) => {
        this.autostartResults = results;
        this.dispatchEvent(new CustomEvent(KernelEvents.autostart, { detail: results }));
        return results;
      });
    return this.autostarting;
  }

  /** What `autostart()` did, once it has finished (a copy); undefined before. */
  autostarted(): AutostartResult[] | undefined {
    return this.autostartResults?.map((r) => ({ ...r, ...(r.status === 'started' ? { args: [...r.args] } : {}) }));
  }

  /** Every installed module, by name. */
  /**
   * The home of `module`: its own directory in the origin-private file system, which its
   * processes see where they mount `'home'` (`spawn(name, { mounts: { '/home': 'home' } })`).
   * Made if missing; the module need not be installed. Page scripts put input files there
   * before a run and read results after it. Rejects with `kernel/bad-argument` (a name that is
   * empty or holds `/`), `kernel/unsupported` (no origin-private file system), `kernel/storage`.
   */
  async home(module: string): Promise<FileSystemDirectoryHandle> {
    if (typeof module !== 'string' || module === '' || module.includes('/') || module === '.' || module === '..') {
      throw new KernelError('kernel/bad-argument', 'a module name is a non-empty string without "/"', { module });
    }
    return homeDirectory(module);
  }

  modules(): Promise<ModuleInfo[]> {
    return this.catalog.list();
  }

  /**
   * Starts a module in its own worker. Settles once the process exists (before it runs); its
   * restart policy and watchdog apply from then on. Rejects with `kernel/unknown-module`,
   * `kernel/bad-argument`, `kernel/not-isolated`, `kernel/no-memory-slot` (the renderer holds as
   * many wasm memories as the browser allowed; see `memorySlots()`).
   */
  async spawn(name: string, opts?: SpawnOptions): Promise<Process> {
    const ready = await this.ready4spawn(name, opts);
    await this.auto.makeRoom(slotOf(ready.runnable, ready.o.mode), memoriesOf(ready));
    return this.pacer.run(() => {
      this.checkSlots([ready]);
      const proc = this.launch(ready, {});
      if (ready.o.stdin !== undefined) feed(ready.o.stdin, proc.stdin);
      return proc;
    });
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
        const { args, env, mode, node } = st;
        return this.ready4spawn(st.name, { ...(args !== undefined ? { args } : {}), ...(env !== undefined ? { env } : {}), ...(mode !== undefined ? { mode } : {}), ...(node !== undefined ? { node } : {}) });
      }),
    );
    return this.pacer.run(() => {
      this.checkSlots(ready);
      const pipes = stages.slice(1).map(() => allocateRing(this.ringSizes.pipe));
      const procs = ready.map((r, i) => this.launch(r, { stdin: pipes[i - 1], stdout: pipes[i] }));
      if (first.stdin !== undefined && procs[0] !== undefined) feed(first.stdin, procs[0].stdin);
      return procs;
    });
  }

  /**
   * Checks a spawn and finds what it runs, before anything starts; the module's configuration,
   * then its manifest, fill in what the spawn leaves out (spawn-config.ts).
   */
  private async ready4spawn(name: unknown, opts: unknown): Promise<Ready> {
    await this.ready;
    const asked = checkSpawnOptions(opts);
    if (typeof name !== 'string') throw new KernelError('kernel/bad-argument', 'the module name must be a string');
    if (!globalThis.crossOriginIsolated) {
      throw new KernelError('kernel/not-isolated', 'this page is not cross-origin isolated, so modules cannot run (no SharedArrayBuffer)');
    }
    if (asked.mode === 'remote') return remoteReady(this.remote, name, asked, (n) => this.packageOf(n));
    const info = await this.catalog.lookup(name);
    if (info === undefined) throw new KernelError('kernel/unknown-module', `no module named "${name}"`, { name });
    const o = effectiveSpawn(asked, info);
    await loadMounts(o, info.name);
    const ready: Ready = { info, o, runnable: await this.catalog.runnable(info) };
    const group = await instanceGroup(ready, this.catalog);
    return group !== undefined ? { ...ready, group } : ready;
  }

  /** The package of module `name` as installed here (to send to a node that lacks it), if any. */
  private async packageOf(name: string): Promise<Uint8Array | undefined> {
    const info = await this.catalog.lookup(name);
    return info === undefined ? undefined : this.catalog.exportPackage(info.package);
  }

  /** Refuses at once, with `kernel/no-memory-slot`, processes whose renderer is at its wall. */
  private checkSlots(ready: Ready[]): void {
    const wanted = new Map<AddressSpace, number>();
    for (const r of ready) {
      const space = slotOf(r.runnable, r.o.mode);
      if (space !== undefined) wanted.set(space, (wanted.get(space) ?? 0) + memoriesOf(r));
    }
    const use = this.slots.snapshot();
    for (const [space, n] of wanted) {
      const { used, limit } = use[space];
      if (limit !== undefined && used + n > limit) {
        const why = this.slots.refusal(space) ?? `${n} more wasm memories would pass the limit of ${limit} (${used} live); ending or hibernating a process frees one`;
        throw new KernelError('kernel/no-memory-slot', why, { space, used, limit });
      }
    }
  }

  /**
   * The wasm memories live in each renderer (the page with its workers and in-page processes; the
   * sandboxed frames) and, once a spawn met it, the browser's limit observed there.
   */
  memorySlots(): Record<AddressSpace, SlotUse> {
    return this.slots.snapshot();
  }

  /**
   * What the kernel holds now, each count read from the structure that holds the thing: the
   * process table, the rings its processes hold, the memory slots, the start queue, each host,
   * each capability, the compiled modules.
   */
  resources(): KernelResources {
    const rows = [...this.procs.values()];
    const live = rows.filter((lc) => lc.row.state !== 'exited').length;
    const rings = new Set(rows.flatMap((lc) => lc.held())).size;
    const slots = this.slots.snapshot();
    const host = (mode: 'worker' | 'iframe' | 'inpage'): HostResources => ({ ...(this.hosts.get(mode)?.resources() ?? NO_HOST_RESOURCES) });
    return {
      processes: { live, exited: rows.length - live },
      rings,
      memorySlots: { page: slots.page.used, frames: slots.frames.used },
      startsQueued: this.pacer.queued,
      hosts: { worker: host('worker'), iframe: host('iframe'), inpage: host('inpage') },
      capabilities: this.caps.resources(),
      catalog: this.catalog.resources(),
    };
  }

  /**
   * Creates the process: its rings (or the pipes it is given), its row, its first incarnation.
   * A stdin or stdout given as a pipe belongs to the neighbouring stage, not to the page.
   */
  private launch(
    ready: Ready,
    pipes: { stdin?: SharedArrayBuffer | undefined; stdout?: SharedArrayBuffer | undefined },
    from?: Continuing,
    pid = this.nextPid++,
    hibernated?: { startedAt: number; snapshotBytes?: number },
  ): Process {
    const rings: Rings = {
      stdin: pipes.stdin ?? allocateRing(this.ringSizes.stdin),
      stdout: pipes.stdout ?? allocateRing(this.ringSizes.stdout),
      stderr: allocateRing(this.ringSizes.stderr),
      piped: { stdin: pipes.stdin !== undefined, stdout: pipes.stdout !== undefined },
    };
    const lc = new Lifecycle(pid, ready, rings, this.lifecycleDeps, from);
    const proc = lc.process;
    if (proc === undefined) throw new KernelError('kernel/bad-argument', `process ${pid} could not be made`, { pid });
    this.procs.set(pid, lc);
    const kept = mountTable(ready.o, ready.info.name);
    if (kept !== undefined) this.mounted.set(pid, kept);
    if (hibernated !== undefined) lc.restoredHibernated(hibernated);
    else lc.begin('requested');
    return proc;
  }

  /**
   * Calls function `fn` of service module `module` (a module without `_start`: a WASI reactor
   * or an Extism plugin) with `input` (text is UTF-8), and resolves with its output. The module is
   * started on its first call and stays; calls run one at a time, in order. A call still queued or
   * running after `opts.timeoutMs` (default 10 s) fails with `kernel/timeout`, and one running is
   * ended with the instance, which starts again fresh. Rejects with `kernel/bad-argument`,
   * `kernel/unknown-module`, `service/not-a-service`, `kernel/unsupported` (the `remote`
   * mode), `service/no-such-function`, `service/error` (the module's own message, or how it
   * ended), `kernel/timeout`, `kernel/no-memory-slot`. With `opts.node` the call is made on that
   * node (ADR 0038), with its codes there, and also `remote/unknown-node`, `remote/refused`,
   * `remote/link-lost`.
   */
  call(module: string, fn: string, input?: Uint8Array | string, opts?: CallOptions): Promise<Uint8Array> {
    return this.services.call(undefined, module, fn, input, opts);
  }

  /** The live service instances: pid, queue, calls and errors so far. */
  serviceStats(): ServiceStats[] {
    return this.services.stats();
  }

  /**
   * Provides `functions` to modules under `namespace` (see providers.ts): a module importing
   * `namespace.fn` calls the page's function, with `call:<namespace>` granted. Returns the
   * withdraw function. Under `extism:host/user` they are Extism's host functions (ADR 0035).
   * Throws `kernel/bad-argument`.
   */
  provide(namespace: 'extism:host/user', functions: Record<string, HostFunction>): () => void;
  provide(namespace: string, functions: Record<string, ProvidedFunction>): () => void;
  provide(namespace: string, functions: Record<string, ProvidedFunction> | Record<string, HostFunction>): () => void {
    return this.providers.provide(namespace, functions);
  }

  /** Starts an instance of a service module: its output is discarded and its stdin empty, as for a module's child. */
  private async startService(name: string): Promise<Lifecycle> {
    // Extism's allowed_paths are its mounts (ADR 0035).
    const found = await this.catalog.lookup(name);
    const settings = found === undefined ? undefined : serviceSettings(found.manifest);
    const mounts = typeof settings === 'object' ? settings.allowedPaths : undefined;
    const ready = await this.ready4spawn(name, mounts !== undefined ? { mounts: { ...mounts } } : {});
    const { info, o } = ready;
    if (info.kind !== 'wasm' || info.command) throw new KernelError('service/not-a-service', `"${name}" is a command (it has _start), not a service`, { name });
    // Served in a worker, the iframe container or on the page (ADR 0032); another node serves none yet.
    if (o.mode === 'remote') {
      throw new KernelError('kernel/unsupported', 'a service runs in the worker, iframe or inpage mode here; to call one on another node, give the call that node', { name, mode: o.mode });
    }
    const serving: Ready = await pluginReady({ ...ready, o: { ...o, restart: o.restart ?? SERVICE_RESTART } }, this.catalog);
    return this.pacer.run(() => {
      this.checkSlots([serving]);
      const p = this.launch(serving, {});
      void p.stdin.close().catch(() => {});
      void p.stdout.cancel().catch(() => {});
      void p.stderr.cancel().catch(() => {});
      const lc = this.procs.get(p.pid);
      if (lc === undefined) throw new KernelError('kernel/spawn-failed', `service "${name}" could not be started`, { name });
      return lc;
    });
  }

  /** The process table: running processes and the most recent exited ones. */
  processes(): ProcessInfo[] {
    return [...this.procs.values()].map(({ row }) => ({ ...row, args: [...row.args], ...(row.lastExit !== undefined ? { lastExit: { ...row.lastExit } } : {}) }));
  }

  /**
   * Ends a process by pid, for good: no restart follows, whatever its policy. Settles once it is
   * gone (at once if it already ended). Rejects with `kernel/unknown-process`.
   */
  async kill(pid: number): Promise<void> {
    const lc = this.procs.get(pid);
    if (lc === undefined) throw new KernelError('kernel/unknown-process', `no process ${pid}`, { pid });
    await lc.kill();
  }

  /**
   * Starts a process again under its pid, with a fresh restart history: a running one (its
   * current incarnation is ended first; the handle stays valid), one waiting in backoff (at
   * once), or one that ended (at its restart limit, say: new streams, so a new handle; what was
   * given as `stdin` at spawn is not given again). Settles once the new incarnation is starting.
   * Rejects with `kernel/unknown-process`, or `kernel/bad-argument` for an ended pipeline stage
   * (its pipes are gone).
   */
  async restart(pid: number): Promise<Process> {
    const lc = this.procs.get(pid);
    if (lc === undefined) throw new KernelError('kernel/unknown-process', `no process ${pid}`, { pid });
    const running = lc.process;
    if (lc.row.state !== 'exited' && running !== undefined) {
      await lc.restartNow();
      return running;
    }
    if (lc.piped.stdin || lc.piped.stdout) {
      throw new KernelError('kernel/bad-argument', `process ${pid} was a pipeline stage; run the pipeline again`, { pid });
    }
    return this.launch(lc.ready, {}, { incarnation: lc.row.incarnation + 1, restarts: lc.row.restarts + 1 }, pid);
  }

  /** This node's id (16 hex digits), the same for the kernel's life. */
  get node(): string {
    return this.remote.id;
  }

  /** The other nodes reachable now (tabs of the app on this browser, devices), tabs first. */
  nodes(): NodeInfo[] {
    return this.remote.nodes();
  }

  /** Takes a link to another node from a transport (devices: `followDevices`); the node is listed and can run processes. */
  attachLink(link: Link): void {
    this.remote.attach(link);
  }

  /** Devices' requests to run a module here, waiting for an answer, oldest first. */
  remoteRequests(): RemoteRequest[] {
    return this.requests.list();
  }

  /** Answers a device's request; throws `kernel/bad-argument` if none waits with that id. */
  answerRemote(id: number, answer: RemoteAnswer): void {
    this.requests.answer(id, answer);
  }

  /**
   * Makes a module migratable (`true`: its bytes are instrumented with Asyncify, in a worker,
   * and stored beside its own; its next processes run those) or not (`false`). Settles once
   * stored. Rejects with `registry/not-found`, `registry/not-migratable` (the pass refused it:
   * no memory, no `_start`, shared memory, already instrumented), `kernel/bad-argument`.
   */
  setMigratable(name: string, migratable: boolean): Promise<ModuleInfo> {
    return this.catalog.setMigratable(name, migratable);
  }

  /**
   * Hibernates a running migratable process: parked at its next blocking stdin read (waiting
   * up to `deadlineMs`, default 5 s), its snapshot written to IndexedDB, its worker and memory
   * released; the row goes `hibernating`, then `hibernated`. Writing to its stdin resumes it, as
   * does `resume`. Survives a reload of the page (see `attach`). Settles once stored. Rejects
   * with `kernel/unknown-process`, `migrate/not-migratable`, `migrate/bad-state` (not running),
   * `migrate/busy` (no safe point before the deadline; with `orRestart` it is restarted instead),
   * `migrate/failed`, `registry/quota`, `registry/storage` (then it runs on).
   */
  async hibernate(pid: number, opts?: HibernateOptions): Promise<void> {
    await this.hibernation.hibernate(this.lifecycle(pid), checkHibernateOptions(opts));
  }

  /**
   * Resumes a hibernated process from its stored snapshot; settles once it runs. Rejects with
   * `kernel/unknown-process`, `migrate/bad-state` (not hibernated), `migrate/failed`.
   */
  async resume(pid: number): Promise<void> {
    await this.hibernation.resume(this.lifecycle(pid));
  }

  /**
   * Moves a running migratable process to a fresh host of `mode` (`worker` or `iframe`, or
   * `remote` with `opts.node`: another node, where it must be installed migratable from the same
   * bytes): parked at its next blocking read, resumed there; pid, streams and handle stay, stdin
   * written meanwhile waits in its ring. Settles once it runs again. Rejects like `hibernate`,
   * with `migrate/unsupported` for another mode (or a remote process, or another build on the
   * node), `remote/unknown-node`, `remote/not-installed`, `remote/refused`, and `migrate/failed`
   * when the target could not start it (it carries on where it was: rolled back).
   */
  async setMode(pid: number, mode: ExecutionMode, opts?: HibernateOptions): Promise<void> {
    const lc = this.lifecycle(pid);
    const checked = checkHibernateOptions(opts);
    if (mode === 'remote') await checkRemoteMove(this.remote, lc, checked.node);
    await this.hibernation.move(lc, mode, checked);
  }

  /**
   * Turns on (or, with `null`, off) hibernating idle migratable processes to make room: before a
   * spawn or a resume would hold more than `maxLive` live wasm memories in one renderer (or, with
   * `atWall`, reach the browser's limit once observed), the least recently started or resumed
   * migratable processes there that wait for input are hibernated; input for one resumes it the
   * same way. Off by default. Throws `kernel/bad-argument`.
   */
  setAutoHibernate(policy: AutoHibernatePolicy | null): void {
    this.auto.set(checkAutoHibernate(policy));
  }

  /**
   * The handle of a process that has not ended (one listed after a reload, say: hibernated,
   * its stdin resumes it). Rejects with `kernel/unknown-process` (none, or ended).
   */
  async attach(pid: number): Promise<Process> {
    await this.ready;
    const handle = this.procs.get(pid)?.process;
    if (handle === undefined) throw new KernelError('kernel/unknown-process', `no live process ${pid}`, { pid });
    return handle;
  }

  private lifecycle(pid: unknown): Lifecycle {
    const lc = typeof pid === 'number' ? this.procs.get(pid) : undefined;
    if (lc === undefined) throw new KernelError('kernel/unknown-process', `no process ${String(pid)}`, { pid });
    return lc;
  }

  /** A process another node moved here (`setMode(pid, 'remote')` there): started from its snapshot. */
  private async resumeHere(name: string, opts: SpawnOptions, snapshot: Snapshot, sha256: string): Promise<Process> {
    const ready = await this.ready4spawn(name, opts);
    if (ready.info.migratable?.sha256 !== sha256) {
      throw new KernelError('migrate/unsupported', `"${name}" is not installed here migratable from the same bytes as on the node it comes from`, { name });
    }
    if (ready.o.mode !== 'iframe') ready.o.mode = 'worker';
    return this.pacer.run(() => {
      const p = this.launch(ready, {}, undefined, undefined, { startedAt: Date.now() });
      this.procs.get(p.pid)?.resume(snapshot);
      return p;
    });
  }

  /** A process stored hibernated before a reload, back in the table under its pid. */
  private async adopt(rec: HibernatedRecord, o: CheckedSpawn, info: ModuleInfo): Promise<boolean> {
    const runnable = await this.catalog.runnable(info);
    // A service's instance is served as at its start (ADR 0036): its Extism settings and links.
    const ready: Ready = info.command ? { info, o, runnable } : await pluginReady({ info, o, runnable }, this.catalog);
    const p = this.launch(ready, {}, { incarnation: rec.incarnation, restarts: rec.restarts }, rec.pid, { startedAt: rec.startedAt, ...(typeof rec.memoryBytes === 'number' ? { snapshotBytes: rec.memoryBytes } : {}) });
    if (info.command) return true;
    // As startService leaves it: nothing to read, its output discarded.
    void p.stdin.close().catch(() => {});
    void p.stdout.cancel().catch(() => {});
    void p.stderr.cancel().catch(() => {});
    const lc = this.procs.get(p.pid);
    if (lc !== undefined && this.services.adopt(info.name, lc)) return true;
    void p.kill().catch(() => {});
    return false;
  }

  /** Ends every process and closes the registry. */
  dispose(): void {
    this.remote.dispose();
    this.hibernation.close();
    this.pacer.dispose();
    for (const host of this.hosts.values()) host.dispose();
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

  /** The key-value store (`kernel.kv`). */
  get kv(): KvApi {
    return this.caps.api<KvApi>('kv', 'a key-value store');
  }

  private host(mode: ExecutionMode): Host {
    if (mode === 'remote') return this.remote.host;
    let host = this.hosts.get(mode);
    if (host === undefined) {
      // A home's full disk is heard from the file server (ADR 0025), a picked folder's from the home calls.
      const onNoSpace = (pid: number, path: string): void => {
        const name = this.procs.get(pid)?.row.name ?? '';
        this.dispatchEvent(new CustomEvent(KernelEvents.nospace, { detail: { pid, name, path } }));
      };
      host = mode === 'iframe' ? new IframeHost() : mode === 'inpage' ? new InpageHost() : new WorkerHost({ onNoSpace });
      this.hosts.set(mode, host);
    }
    return host;
  }

  private prune(): void {
    const exited = [...this.procs.values()].filter((lc) => lc.row.state === 'exited');
    for (const lc of exited.slice(0, Math.max(0, exited.length - this.keepExited))) this.procs.delete(lc.row.pid);
  }

  private emit(type: string): void {
    this.dispatchEvent(new Event(type));
  }
}
