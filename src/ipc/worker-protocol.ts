/**
 * Wire protocol between the kernel (page) and a module's worker host. Types only; parsers are
 * in worker-parse.ts. Both sides are kernel-owned code; module code never sees these messages.
 */
import type { KernelErrorData } from '../kernel/errors';
import type { ExitReason } from '../kernel/types';

export const WORKER_PROTOCOL = 1;

/** Message tags, page to worker. */
export const ToWorker = {
  start: 'start',
} as const;

/** Message tags, worker to page. */
export const FromWorker = {
  ready: 'ready',
  running: 'running',
  exited: 'exited',
  error: 'error',
} as const;

/** Start one process in this worker. The worker is idle again once it answers `exited`. */
export interface StartMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof ToWorker.start;
  pid: number;
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
  /** The memory cap in 64 KiB pages, to tell a trap at the cap from any other trap. */
  maxPages: number;
}

/** The worker has loaded and waits for `start`. */
export interface ReadyMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof FromWorker.ready;
}

/** The process was instantiated and its code runs. */
export interface RunningMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof FromWorker.running;
  pid: number;
}

/** The process ended. */
export interface ExitedMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof FromWorker.exited;
  pid: number;
  code: number;
  reason: ExitReason;
  message?: string;
}

/** A message could not be understood. */
export interface ErrorMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof FromWorker.error;
  error: KernelErrorData;
}

export type ToWorkerMessage = StartMessage;
export type FromWorkerMessage = ReadyMessage | RunningMessage | ExitedMessage | ErrorMessage;
