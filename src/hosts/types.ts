/**
 * The host contract: every execution mode (worker, iframe, inpage, remote) implements `Host`, and
 * the kernel never asks which one it is talking to.
 */
import type { ExecutionMode, ExitReason } from '../kernel/types';

/** Everything needed to start one process; the kernel owns the rings, the host only uses them. */
export interface HostStart {
  pid: number;
  /** The module name: workers are named after it so DevTools shows it. */
  name: string;
  module: WebAssembly.Module;
  /** argv, argv[0] included. */
  args: string[];
  /** `NAME=value`. */
  env: string[];
  preopens: string[];
  files: Array<[string, Uint8Array]>;
  stdin: SharedArrayBuffer;
  stdout: SharedArrayBuffer;
  stderr: SharedArrayBuffer;
  tty: boolean;
  /** The memory cap in 64 KiB pages (the module was compiled with it). */
  maxPages: number;
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
