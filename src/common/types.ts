/**
 * Data shapes every layer shares: modules as the registry keeps them, grants, process rows, how
 * a process ends. The kernel's public API (kernel/types.ts) is built from these.
 */

/** Where a module runs. Only `worker` exists today; callers never see the difference. */
export type ExecutionMode = 'worker' | 'iframe' | 'inpage' | 'remote';

/** One import or export of a module, as `WebAssembly.Module.imports/exports` reports it. */
export interface ModuleSymbol {
  module?: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

/** What a module is written in. */
export type ModuleKind = 'wasm' | 'js';

/** What a module may ask of the system, read from its imports, in words the shell can show. */
export type Capability =
  | 'args'
  | 'env'
  | 'stdin'
  | 'stdout'
  | 'files'
  | 'clock'
  | 'random'
  | 'sleep'
  | 'exit'
  | 'sockets'
  | 'webmk'
  | 'extism'
  | 'unknown-imports';

/** The JSON manifest a module carries (custom section `webmk.manifest`) or is defaulted to. */
export interface ModuleManifest {
  name?: string;
  version?: string;
  description?: string;
  [field: string]: unknown;
}

/** A module as the registry keeps it. */
export interface ModuleInfo {
  name: string;
  version: string;
  description: string;
  /** Size of the `.wasm` in bytes. */
  size: number;
  /** Lower-case hex SHA-256 of the bytes; the blob's key in the registry. */
  sha256: string;
  /** Milliseconds since the epoch. */
  installedAt: number;
  /** The file name it was installed from, if any. */
  source?: string;
  /** `wasm`: a WebAssembly module; `js`: a JavaScript module (an ES module exporting `main`). */
  kind: ModuleKind;
  /** True for a WASI command (exports `_start`), and for every JS module. */
  command: boolean;
  imports: ModuleSymbol[];
  exports: ModuleSymbol[];
  capabilities: Capability[];
  manifest: ModuleManifest;
  /** What the manifest asks for beyond WASI, as `kind:value` (e.g. `publish:sensors/temp`). */
  requested: string[];
  /** What was granted of that. */
  grants: Grants;
  /**
   * How it is to run, as the person configured it (`kernel.configure`): kept across reinstalls
   * of the same name, dropped with an uninstall. `{}` when nothing is configured.
   */
  config: ModuleConfig;
  /** The package it belongs to (a module installed alone is a package of one, named after it). */
  package: string;
  /**
   * Set when it is migratable: the content hash and size of its Asyncify-instrumented bytes,
   * stored beside the original; those are what runs (ADR 0019).
   */
  migratable?: { sha256: string; size: number };
}

/**
 * A module's stored configuration. Each field applies to its next start and gives way to the
 * same spawn option; a field left out falls back to the manifest, then to the default.
 */
export interface ModuleConfig {
  /** Where it runs (only `worker` runs today; a spawn refuses the others). */
  mode?: ExecutionMode;
  /** Who restarts it after it ends. */
  restart?: RestartPolicy;
  /** Its watchdog, in milliseconds of wasm without a system call (at least 10). */
  watchdogMs?: number;
  /** Start it when the app opens (default false). */
  autostart?: boolean;
  /** Where it comes in the start-up order: lower first, ties by name (default 0). */
  startOrder?: number;
  /** argv[1..] when a spawn gives none. */
  args?: string[];
}

/** Kernel calls a module can be granted (`webmk_kernel_*`). */
export type KernelCall = 'list' | 'spawn' | 'kill' | 'ps';

/**
 * What a module may do beyond WASI: topics it may publish and subscribe to (exact names or
 * `prefix/*`), and kernel calls. Deny by default: an empty grant allows nothing.
 */
export interface Grants {
  publish: string[];
  subscribe: string[];
  kernel: string[];
  /** Execution modes it may run in beyond `worker`/`iframe` (`inpage`). Absent in records from before. */
  run?: string[];
  /** Service modules it may call (`call:<module>`). Absent in records from before. */
  call?: string[];
  /** Key-value groups it may read or write (`kv:read:<group>`, `kv:write:<group>`). Absent in records from before. */
  kv?: string[];
  /** Host patterns an Extism plugin's `http_request` may reach (`http:<pattern>`). Absent in records from before. */
  http?: string[];
}

/**
 * Lifecycle state of a process: `starting` (its module is being instantiated), `running`,
 * `backoff` (it ended and waits to be restarted under the same pid), `exited` (for good);
 * a migratable one also `switching` (being moved to another host), `hibernating` (being
 * captured), `hibernated` (its state stored, no worker, no memory) and `resuming` (restored
 * into a fresh instance).
 */
export type ProcessState = 'starting' | 'running' | 'backoff' | 'exited' | 'switching' | 'hibernating' | 'hibernated' | 'resuming';

/** Why a process ended. */
export type ExitReason =
  /** It returned from `_start` or called `proc_exit`. */
  | 'exited'
  /** It trapped (unreachable, out-of-bounds access, stack overflow, ...). */
  | 'crashed'
  /** It reached its memory limit. */
  | 'memory-exceeded'
  /** `kill()` ended it. */
  | 'killed'
  /** It could not start (link or instantiate error). */
  | 'failed'
  /** It could not start: the renderer holds as many wasm memories as the browser allows (memory-slots.ts). */
  | 'no-memory-slot'
  /** It spent longer than its `watchdogMs` in wasm without calling the system. */
  | 'watchdog-expired'
  /** It ended abnormally more often than its restart policy allows (the last end's code stays). */
  | 'restart-limit'
  /** The kernel shut down under it. */
  | 'shutdown'
  /** It ran on another node (a tab, a device) and the link to that node was lost. */
  | 'link-lost';

/** Why a process changed state: why it ended, or `requested` for a start someone asked for. */
export type StateReason = ExitReason | 'requested' | 'updated';

/**
 * Who restarts a process after it ends (Erlang/OTP's child restart types): `temporary` never
 * (the default), `transient` after an abnormal end (nonzero exit, trap, memory limit, watchdog),
 * `permanent` after any end but a kill. More than `intensity` restarts within `periodMs` ends it
 * with `restart-limit`. Between restarts it waits `initialMs`, then `factor` times longer each
 * time up to `maxMs`; an incarnation that ran `resetAfterMs` without ending starts the wait over.
 */
export interface RestartPolicy {
  restart: 'permanent' | 'transient' | 'temporary';
  /** Default 3. */
  intensity?: number;
  /** Default 60,000. */
  periodMs?: number;
  /** Default `{ initialMs: 100, factor: 2, maxMs: 30_000, resetAfterMs: 60_000 }`. */
  backoff?: { initialMs?: number; factor?: number; maxMs?: number; resetAfterMs?: number };
  /**
   * A remote process whose link was lost (`link-lost`) and that the policy restarts: `'local'`
   * restarts it on this node (its module installed here, in its configured mode, else a worker);
   * a node id restarts it on that node if it is connected and runs it (else on this node);
   * absent, the restart goes to the same node (and ends `link-lost` again while it is gone).
   */
  fallback?: string;
}

/** How a process ended: its exit code, the reason, and a human explanation. */
export interface ProcessExit {
  code: number;
  reason: ExitReason;
  message?: string;
}

/** A row of the process table. */
export interface ProcessInfo {
  pid: number;
  name: string;
  mode: ExecutionMode;
  state: ProcessState;
  args: string[];
  tty: boolean;
  /** Milliseconds since the epoch. */
  startedAt: number;
  endedAt?: number;
  exitCode?: number;
  /** Why it ended, once `exited`. */
  reason?: ExitReason;
  /** A human explanation of the reason (the trap message, say). */
  message?: string;
  /** How many times this pid has been started: 1, then one more per restart. */
  incarnation: number;
  /** Restarts so far (`incarnation - 1`). */
  restarts: number;
  /** Its restart type (`temporary` unless the spawn or the manifest said otherwise). */
  restart: RestartPolicy['restart'];
  /** The watchdog, in milliseconds of wasm without a host call (absent: none). */
  watchdogMs?: number;
  /** How its previous incarnation ended, once it has been restarted (or while in `backoff`). */
  lastExit?: ProcessExit & { at: number };
  /** While in `backoff`: when the next incarnation starts (milliseconds since the epoch). */
  restartAt?: number;
  /** The version and content hash of the module its current (or last) incarnation runs. */
  version?: string;
  sha256?: string;
  /** A newer version installed since it started, which its next incarnation runs. */
  updatePending?: string;
  /**
   * The other node of a remote process: for one in `remote` mode, the node it runs on; for one
   * this node runs for another node, that node (`kernel.nodes()`).
   */
  node?: string;
  /** Its pid on that other node, once known. */
  remotePid?: number;
  /** While `hibernated`: the bytes of linear memory its snapshot holds. */
  snapshotBytes?: number;
}

/** What the kernel answers a guest call with; `transfer` lists objects to move, not copy. */
export interface CallResult {
  value: unknown;
  transfer?: Transferable[];
}
