/**
 * The host contract: every execution mode (worker, iframe, inpage, remote) implements `Host`, and
 * the kernel never asks which one it is talking to.
 */
import type { CallResult, ExecutionMode, Grants, ProcessExit } from '../common';
import type { ExtismStart, GroupMember, WasiProcessOptions } from '../ipc';

/**
 * What a process runs: a WebAssembly module compiled under the memory cap (with its bytes, for a
 * host in another agent cluster, which compiles them itself once per content hash), or a JS
 * module's text.
 */
export type Program =
  | { kind: 'wasm'; module: WebAssembly.Module; bytes: Uint8Array; sha256: string; maxPages: number }
  | { kind: 'js'; script: string; sha256: string };

/** Everything needed to start one process; the kernel owns the rings, the host only uses them. */
export interface HostStart extends WasiProcessOptions {
  pid: number;
  /** The module name: workers are named after it so DevTools shows it. */
  name: string;
  program: Program;
  /**
   * End it with `watchdog-expired` once it computes this long without a host call (while not
   * inside one); absent, no watchdog.
   */
  watchdogMs?: number;
  grants: Grants;
  /** Shared memory of kernel capabilities (the bus), keyed by capability name. */
  shared: Record<string, SharedArrayBuffer>;
  /** A service module: instantiate it and serve calls (`HostedProcess.serve`) instead of running `_start`. */
  serve?: boolean;
  /** A service's config values, read with Extism's `config_get`. */
  serviceConfig?: Record<string, string>;
  /** A service's Extism limits and linked modules. */
  extism?: ExtismStart;
  /** Service modules to instantiate beside it, where the mode shares its realm's objects (worker, inpage: ADR 0033). */
  group?: GroupMember[];
  /** The node it runs on, for the `remote` mode (`kernel.nodes()`). */
  node?: string;
  /** Answers the process's calls into the kernel; rejects with a KernelError to refuse. */
  onCall(call: string, args: unknown): Promise<CallResult>;
}

/** A process as a host runs it. */
export interface HostedProcess {
  /** Resolves once the module's code runs (after instantiation); never, for one that could not start. */
  readonly running: Promise<void>;
  /** Settles exactly once, on every path: exit, trap, kill, host failure. */
  readonly exited: Promise<ProcessExit>;
  /** Ends it at once, whatever it is doing, with `end` (default: killed); resolves after `exited`. */
  kill(end?: ProcessExit): Promise<void>;
  /**
   * A migratable process where the kernel's control words cannot reach (another agent cluster):
   * passes the kernel's request to park on (`true`), or its withdrawal (`false`). Absent where
   * the runtime shares those words.
   */
  park?(on: boolean): void;
  /**
   * A service process (`HostStart.serve`): runs export `fn` with `input` and resolves with its
   * output; rejects with `service/no-such-function`, `service/error`. One call at a time: the
   * caller queues. Absent where the mode cannot serve yet. `until`: the call's deadline (ms since
   * the epoch), which calls the service makes meanwhile keep.
   */
  serve?(fn: string, input: Uint8Array, until?: number): Promise<Uint8Array>;
  /** A service process's slot in the call space, where modules call it directly (ADR 0027); absent where the mode has none. */
  readonly direct?: { slot: number; serial: number };
}

/**
 * What a host holds now, each count read from the structure that holds the thing (a mode that
 * has none of a kind reports 0).
 */
export interface HostResources {
  /** Starts it runs now: not yet exited. */
  processes: number;
  /** Workers on the page running a process. */
  busyWorkers: number;
  /** Workers on the page kept warm for a next start (bounded by the pool's limits). */
  idleWorkers: number;
  /** New workers booting now, and starts waiting at the boot gate for their turn. */
  booting: number;
  waiting: number;
  /** Container frames on the page and the MessagePorts to them. */
  frames: number;
  ports: number;
  /** blob: URLs it made and has not revoked. */
  blobUrls: number;
  /** Timers it keeps (an idle worker's end). */
  timers: number;
}

/** A host that holds nothing. */
export const NO_HOST_RESOURCES: Readonly<HostResources> = {
  processes: 0,
  busyWorkers: 0,
  idleWorkers: 0,
  booting: 0,
  waiting: 0,
  frames: 0,
  ports: 0,
  blobUrls: 0,
  timers: 0,
};

/** One execution mode. */
export interface Host {
  readonly mode: ExecutionMode;
  start(req: HostStart): HostedProcess;
  /** What it holds now (for leak checks and the process view). */
  resources(): HostResources;
  /** Ends every process and frees every resource of this host. */
  dispose(): void;
}
