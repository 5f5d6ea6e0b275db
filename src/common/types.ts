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
  /** True for a WASI command (exports `_start`). */
  command: boolean;
  imports: ModuleSymbol[];
  exports: ModuleSymbol[];
  capabilities: Capability[];
  manifest: ModuleManifest;
  /** What the manifest asks for beyond WASI, as `kind:value` (e.g. `publish:sensors/temp`). */
  requested: string[];
  /** What was granted of that. */
  grants: Grants;
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
}

/** Lifecycle state of a process. */
export type ProcessState = 'starting' | 'running' | 'exited';

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
  | 'failed';

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
  reason?: ExitReason;
  /** A human explanation of the reason (the trap message, say). */
  message?: string;
}

/** What the kernel answers a guest call with; `transfer` lists objects to move, not copy. */
export interface CallResult {
  value: unknown;
  transfer?: Transferable[];
}
