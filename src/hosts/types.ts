/**
 * The host contract: every execution mode (worker, iframe, inpage, remote) implements `Host`, and
 * the kernel never asks which one it is talking to.
 */
import type { ExecutionMode, ExitReason, Grants } from '../kernel/types';
import type { WasiProcessOptions } from '../wasi';

/** What the kernel answers a guest call with; `transfer` lists objects to move, not copy. */
export interface CallResult {
  value: unknown;
  transfer?: Transferable[];
}

/** Everything needed to start one process; the kernel owns the rings, the host only uses them. */
export interface HostStart extends WasiProcessOptions {
  pid: number;
  /** The module name: workers are named after it so DevTools shows it. */
  name: string;
  module: WebAssembly.Module;
  /** The memory cap in 64 KiB pages (the module was compiled with it). */
  maxPages: number;
  grants: Grants;
  /** Shared memory of kernel services (the bus), keyed by service name. */
  shared: Record<string, SharedArrayBuffer>;
  /** Answers the process's calls into the kernel; rejects with a KernelError to refuse. */
  onCall(call: string, args: unknown): Promise<CallResult>;
}

/** How a process ended. */
export interface HostExit {
  code: number;
  reason: ExitReason;
  message?: string;
}

/** A process as a host runs it. */
export interface HostedProcess {
  /** Resolves once the module's code runs (after instantiation). */
  readonly running: Promise<void>;
  /** Settles exactly once, on every path: exit, trap, kill, host failure. */
  readonly exited: Promise<HostExit>;
  /** Ends it at once, whatever it is doing; resolves after `exited`. */
  kill(): Promise<void>;
}

/** One execution mode. */
export interface Host {
  readonly mode: ExecutionMode;
  start(req: HostStart): HostedProcess;
  /** Ends every process and frees every resource of this host. */
  dispose(): void;
}

/** Exit codes for ends that are not the module's own choice (shell conventions: 128 + signal). */
export const EXIT_CODES = {
  /** SIGABRT: a trap. */
  crashed: 134,
  /** SIGKILL, as an OOM killer does. */
  'memory-exceeded': 137,
  /** SIGKILL. */
  killed: 137,
  /** "cannot execute": the module could not be linked or instantiated. */
  failed: 126,
} as const;
