/**
 * The public shapes of the kernel API (`window.kernel`). This file is the contract page scripts,
 * the shell and external checks rely on: extend it, never change what is here.
 */
import type { BusApi } from '../bus';
import type { ExecutionMode, KernelErrorCode, ModuleConfig, ModuleInfo, PackageInfo, ProcessInfo, TrustedKey, ProcessState, RestartPolicy, StateReason } from '../common';
import type { GfxApi } from '../gfx';
import type { KvApi } from '../kv';
import type { TransformsApi } from './transforms';
import type { HostFunction } from './current-plugin';
import type { ExtismManifest } from './extism-manifest';
import type { HostResources } from '../hosts';
import type { Link, NodeInfo } from '../remote';
import type { RemoteAnswer, RemoteRequest } from './remote-requests';
import type { InstallProgress } from './fetch-source';
import type { AddressSpace, SlotUse } from './memory-slots';

export type { InstallProgress } from './fetch-source';
export type { NodeInfo } from '../remote';
export type { RemoteAnswer, RemoteRequest } from './remote-requests';

export type {
  Capability,
  ExecutionMode,
  ExitReason,
  Grants,
  KernelCall,
  ModuleConfig,
  ModuleInfo,
  ModuleManifest,
  ModuleSymbol,
  PackageInfo,
  PackageModuleStatus,
  SignatureState,
  TrustedKey,
  ProcessExit,
  ProcessInfo,
  ProcessState,
  RestartPolicy,
  StateReason,
} from '../common';

/** Options of `kernel.install`. */
export interface InstallOptions {
  /** The module's name; defaults to the file name without `.wasm`, then the manifest's. */
  name?: string;
  /**
   * What to grant of what the manifest asks: `'all'`, or a list of permissions such as
   * `'publish:sensors/temp'`, `'subscribe:control/*'`, `'kernel:list'`. Default: nothing.
   */
  grant?: 'all' | string[];
  /** For a package: install it although it is unsigned or signed by a key not trusted (the person agreed). */
  untrusted?: boolean;
  /** For a package: replace it even by a version outside the range an installed package depends on. */
  force?: boolean;
  /** For a URL: called as the download goes. */
  onProgress?: (progress: InstallProgress) => void;
  /**
   * Make it migratable (instrumented with Asyncify: it can be hibernated and moved while it
   * waits); default: what its manifest's `migratable` says.
   */
  migratable?: boolean;
}

/** The publisher keys the person trusts (`kernel.trust`); a key is the raw 32 bytes of an Ed25519 public key, or their base64. */
export interface TrustApi {
  /** Trusts a key; resolves with its record. Rejects with `kernel/bad-argument`. */
  add(publicKey: string | Uint8Array, opts?: { label?: string }): Promise<TrustedKey>;
  list(): Promise<TrustedKey[]>;
  /** Stops trusting a key. Rejects with `registry/not-found`, `kernel/bad-argument`. */
  remove(publicKey: string | Uint8Array): Promise<void>;
}

/** Options of `kernel.spawn`. */
export interface SpawnOptions {
  /** argv[1..]; argv[0] is the module name (default: the configuration's `args`, else none). */
  args?: string[];
  /** Exactly these variables, nothing added. */
  env?: Record<string, string>;
  /** Bytes or a stream fed to stdin then closed; default: an interactive pipe (`p.stdin`). */
  stdin?: Uint8Array | ReadableStream<Uint8Array>;
  /** Guest directory names to preopen, e.g. `['/']` or `['data']`. */
  preopens?: string[];
  /** Files keyed by guest path `'<preopen>/<path>'`; their preopen is added if missing. */
  files?: Record<string, Uint8Array>;
  /**
   * More preopened directories, keyed by guest directory: `'tmp'` (empty, in memory, gone at
   * exit), `'home'` (the module's own persistent directory, see `Kernel.home`), or a
   * `FileSystemDirectoryHandle` (a folder the person picked, with readwrite permission granted:
   * reads and writes go to it), e.g. `{ '/home': 'home', '/tmp': 'tmp', '/data': picked }`.
   * A home or a folder is refused outside worker mode.
   */
  mounts?: Record<string, 'tmp' | 'home' | FileSystemDirectoryHandle>;
  /** Where it runs (default: the configuration's, else the manifest's, else `worker`); `remote` needs `node`. */
  mode?: ExecutionMode;
  /** For `mode: 'remote'` (implied by it): the id of the node it runs on (`kernel.nodes()`). */
  node?: string;
  /** Who restarts it after it ends (default: the configuration's, else the manifest's `restart`, else `temporary`: nobody). */
  restart?: RestartPolicy;
  /**
   * Ends it (`watchdog-expired`, then the restart policy applies) once it spends this many
   * milliseconds in wasm without calling the system while not parked in a blocking call.
   * Default: the configuration's, else the manifest's `watchdogMs`, else none. At least 10.
   */
  watchdogMs?: number;
  /**
   * Whether stdout/stderr are a terminal (a character device, line-buffered by libc) or a pipe
   * (fully buffered). Default false; the shell's terminal windows pass true.
   */
  tty?: boolean;
  /**
   * Service modules whose functions it imports, to instantiate in its own worker beside it (an
   * instance group, ADR 0033): each import from them is then a direct call into an instance of
   * its own, whose state no other caller shares. Each needs `call:<module>`; one that is not
   * granted, not installed or not a service is reached through the kernel as without this.
   * Default: the manifest's `inProcess`, else none; `[]` turns the manifest's off.
   */
  inProcess?: string[];
}

/** One stage of `kernel.pipeline`. */
export interface PipelineStage {
  name: string;
  args?: string[];
  env?: Record<string, string>;
  /** Where this stage runs (default `worker`); stages in different modes are piped all the same. */
  mode?: ExecutionMode;
  /** For `mode: 'remote'` (implied by it): the node this stage runs on; its pipes cross the link with back-pressure. */
  node?: string;
}

/** A running module: a handle owned by whoever spawned it. */
export interface Process {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** The exit code: nonzero for a trap, a memory limit, a kill; the reason is in `processes()`. */
  readonly exit: Promise<number>;
  /** Ends the process (even one in a tight loop); settles once it is gone. */
  kill(): Promise<void>;
}

/** An attempt refused because the module was not granted it. */
export interface DeniedAttempt {
  pid: number;
  name: string;
  /** The permission it would have needed, e.g. `publish:sensors/temp`. */
  permission: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/** How one module fared when the app opened: started under a pid, or refused with a code. */
export type AutostartResult =
  | { name: string; startOrder: number; status: 'started'; pid: number; args: string[] }
  | { name: string; startOrder: number; status: 'failed'; code: KernelErrorCode; message: string };

/** Events the kernel dispatches (it is an EventTarget). */
export const KernelEvents = {
  /** The registry changed, in this tab or another. */
  modules: 'modules',
  /** The process table changed. */
  processes: 'processes',
  /** A module was refused something it was not granted. */
  denied: 'denied',
  /** Subscriptions or global topics changed. */
  bus: 'bus',
  /** A process changed state; a `CustomEvent` whose `detail` is a `StateChange`. */
  statechange: 'statechange',
  /** `autostart()` finished; a `CustomEvent` whose `detail` is its `AutostartResult[]`. */
  autostart: 'autostart',
  /** Transforms were added, removed, applied or refused. */
  transforms: 'transforms',
  /** A process's write was refused for want of space; a `CustomEvent` whose `detail` is a `NoSpace`. */
  nospace: 'nospace',
  /** A node came or went (`kernel.nodes()`); a `CustomEvent` whose `detail` is `{ gone?: { id, end } }`. */
  nodes: 'nodes',
  /** A device's request to run a module here came or was settled (`kernel.remoteRequests()`). */
  remoterequest: 'remoterequest',
} as const;

/** A live service as `kernel.serviceStats()` reports it. */
export interface ServiceStats {
  name: string;
  pid: number;
  queued: number;
  busy: boolean;
  /** Calls that reached its queue since the kernel started, and how many of them failed. */
  calls: number;
  errors: number;
  /** Of those calls, how many went straight from a module's worker to the service's (ADR 0027). */
  direct: number;
}

/** The detail of a `nospace` event: who could not write what (the module got ENOSPC; its good file is kept). */
export interface NoSpace {
  pid: number;
  name: string;
  /** The path inside its home or mounted folder. */
  path: string;
  /** The guest directory of that home or folder (`/home`, `/data`). */
  mount?: string;
}

/** The detail of a `statechange` event: one per transition, in order. */
export interface StateChange {
  pid: number;
  name: string;
  state: ProcessState;
  reason: StateReason;
  incarnation: number;
}

/**
 * What the kernel holds now (`kernel.resources()`), each count read from the structure that holds
 * the thing, so a leak shows as a count that does not come back.
 */
export interface KernelResources {
  /** Rows of the process table: processes not yet ended for good, and ended ones kept for display (at most `keepExited`). */
  processes: { live: number; exited: number };
  /** Stdio rings and pipes (SharedArrayBuffers) held by processes, a pipe counted once. */
  rings: number;
  /** Wasm memories counted in each renderer (`memorySlots()`). */
  memorySlots: Record<AddressSpace, number>;
  /** Starts queued for a later page task. */
  startsQueued: number;
  /** What each execution mode's host holds (all 0 for a mode not used yet). */
  hosts: Record<'worker' | 'iframe' | 'inpage', HostResources>;
  /** What each capability holds, by its name: `bus` (subscriptions, arenaSlots, inboxBytes, globalTopics), `gfx` (windows, canvasesAsked), `kv` (pageWatchers, moduleWatches). */
  capabilities: Record<string, Record<string, number>>;
  /** Modules held compiled. */
  catalog: { compiled: number };
}

/** Options of `kernel.call`. */
export interface CallOptions {
  /** It fails with `kernel/timeout` after this long, queued or running (ms, default 10,000, at most 600,000). */
  timeoutMs?: number;
  /**
   * Another node (`kernel.nodes()`) to make the call on: the service's instance runs there, as
   * for that node's own calls; a device's person there is asked first (ADR 0038).
   */
  node?: string;
}

/** The kernel as page scripts see it (`window.kernel`). */
export interface KernelApi extends EventTarget {
  readonly ready: Promise<void>;
  /** A module's record; for a package (a zip) or an Extism manifest, its modules' records. */
  install(source: Uint8Array | Blob | File | string | ExtismManifest, opts?: InstallOptions): Promise<ModuleInfo | ModuleInfo[]>;
  /** A package as a zip (its webmk.json, its modules' files and its webmk.sig as installed); a module installed alone gets a webmk.json made for it. */
  exportPackage(name: string): Promise<Uint8Array>;
  /** Removes a module's package, or a package by name; `force` even while others depend on it. */
  uninstall(name: string, opts?: { force?: boolean }): Promise<void>;
  /** Every package: its modules and their status, version, publisher, signature state, dependents. */
  packages(): Promise<PackageInfo[]>;
  /** The publisher keys the person trusts. */
  readonly trust: TrustApi;
  modules(): Promise<ModuleInfo[]>;
  spawn(name: string, opts?: SpawnOptions): Promise<Process>;
  processes(): ProcessInfo[];
  /** Live wasm memories per renderer and the browser's limit once observed (the address-space wall). */
  memorySlots(): Record<AddressSpace, SlotUse>;
  /** What the kernel holds now: workers, frames, rings, subscriptions, windows, compiled modules... */
  resources(): KernelResources;
  /** Ends a process by pid; resolves once it is gone (at once if it already ended). No restart follows. */
  kill(pid: number): Promise<void>;
  /**
   * Starts a process again under its pid with a fresh restart history: one that ended (at its
   * restart limit, say) or one that runs (it is ended first). Returns a new handle.
   */
  restart(pid: number): Promise<Process>;
  /** Runs `a | b | c` with ring-buffer pipes between the stages' workers. */
  pipeline(stages: PipelineStage[], opts?: { stdin?: Uint8Array | ReadableStream<Uint8Array> }): Promise<Process[]>;
  /** Sets what a module is granted of what it asks; granting less revokes. */
  grant(name: string, permissions: 'all' | string[]): Promise<ModuleInfo>;
  /** Replaces a module's stored configuration; it applies from the module's next start. */
  configure(name: string, config: ModuleConfig): Promise<ModuleInfo>;
  /** Starts the modules configured to start at boot, in their start order (once per kernel). */
  autostart(): Promise<AutostartResult[]>;
  /** What `autostart()` did, once it has finished; undefined before. */
  autostarted(): AutostartResult[] | undefined;
  /** The most recent refused attempts, oldest first. */
  denied(): DeniedAttempt[];
  /** Calls function `fn` of service module `module` with `input`; resolves with its output bytes. */
  call(module: string, fn: string, input?: Uint8Array | string, opts?: CallOptions): Promise<Uint8Array>;
  /** The live service instances: pid, calls queued, whether one runs, calls and errors so far. */
  serviceStats(): ServiceStats[];
  /** Provides Extism's host functions (`extism:host/user`) to plugins granted `call:extism:host/user` (ADR 0035). */
  provide(namespace: 'extism:host/user', functions: Record<string, HostFunction>): () => void;
  /** Provides page functions to modules under `namespace`; returns the withdraw function. */
  provide(namespace: string, functions: Record<string, (input: Uint8Array, caller: { pid: number; name: string }) => Uint8Array | string | number | Promise<Uint8Array | string | number>>): () => void;
  /** Makes a module migratable (instrumented with Asyncify; it can then be hibernated and moved) or not. */
  setMigratable(name: string, migratable: boolean): Promise<ModuleInfo>;
  /** Parks a running migratable process at its next blocking read and stores it; its worker and memory go. */
  hibernate(pid: number, opts?: { deadlineMs?: number; orRestart?: boolean }): Promise<void>;
  /** Resumes a hibernated process (writing to its stdin does too). */
  resume(pid: number): Promise<void>;
  /** Moves a running migratable process to a fresh host of that mode, or to another node (`remote` with `opts.node`). */
  setMode(pid: number, mode: ExecutionMode, opts?: { deadlineMs?: number; orRestart?: boolean; node?: string }): Promise<void>;
  /** Hibernates idle migratable processes to keep live wasm memories per renderer under a budget (null: off). */
  setAutoHibernate(policy: { maxLive?: number; atWall?: boolean } | null): void;
  /** The handle of a live process (after a reload: of a hibernated one). */
  attach(pid: number): Promise<Process>;
  /** The home of `module` (its directory in the origin-private file system), made if missing. */
  home(module: string): Promise<FileSystemDirectoryHandle>;
  /** This node's id (16 hex digits), for the kernel's life. */
  readonly node: string;
  /** The other nodes reachable now: tabs of the app on this browser, devices. */
  nodes(): NodeInfo[];
  /** Takes a link from a transport (devices); its node is listed and can run processes. */
  attachLink(link: Link): void;
  /** Devices' requests to run a module here, waiting for the person, oldest first. */
  remoteRequests(): RemoteRequest[];
  /** Answers one: `once`, `always` (this device and module, until the device is forgotten) or `deny`. */
  answerRemote(id: number, answer: RemoteAnswer): void;
  /** The pub/sub bus. */
  readonly bus: BusApi;
  /** Module windows: what they show, their input, closing them. */
  readonly gfx: GfxApi;
  /** The key-value store: groups of keys, persistent, watched. */
  readonly kv: KvApi;
  /** Trusted rewrites of a module's bytes at install. */
  readonly transforms: TransformsApi;
}
