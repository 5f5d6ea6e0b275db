/**
 * Wire protocol between the kernel (page) and the `iframe` mode's container: a sandboxed,
 * opaque-origin frame in its own renderer process. Nothing shared crosses this boundary (no
 * SharedArrayBuffer, no compiled module): the frame runs each process in a worker of its own on
 * rings of its own, and stdio, calls and bus messages cross as messages on one MessagePort.
 * Types only; frame-parse.ts parses both directions. The page treats everything from the frame
 * as untrusted: a frame message names a start (`sid`) the page gave it, never a pid.
 */
import type { ExitReason, Grants, KernelErrorData } from '../common';
import type { Snapshot } from './migrate-protocol';
import type { ReplyMode } from './worker-protocol';

export const FRAME_PROTOCOL = 1;

/** Message tags, page to frame. */
export const ToFrame = {
  /** First message, on the window (with the port): the process runtime's worker script. */
  boot: 'boot',
  start: 'start',
  /** Bytes for a process's stdin. */
  stdin: 'stdin',
  /** End of file on its stdin. */
  stdinEnd: 'stdin-end',
  /** The page has taken `bytes` of a process's output (flow control). */
  ack: 'ack',
  /** Nobody reads that output any more. */
  readerGone: 'reader-gone',
  /** The answer to a call. */
  reply: 'reply',
  /** Bus messages for one of the process's subscriptions, in order. */
  bus: 'bus',
  /** Input events for one of its windows (records of `EVENT_WORDS` words), or its closing. */
  input: 'input',
  kill: 'kill',
  /** Park a migratable process at its next safe point (ADR 0019), or no longer. */
  park: 'park',
  unpark: 'unpark',
  /** Call a function of a service process (ADR 0032); answered by `served`. */
  serve: 'serve',
} as const;

/** Message tags, frame to page. */
export const FromFrame = {
  /** On the window: the frame's script runs and waits for `boot`. */
  loaded: 'loaded',
  /** On the port: booted. */
  ready: 'ready',
  running: 'running',
  /** Bytes a process wrote to stdout (fd 1) or stderr (fd 2). */
  out: 'out',
  /** The frame has taken `bytes` of a process's stdin (flow control). */
  stdinAck: 'stdin-ack',
  call: 'call',
  /** The outcome of a `serve`. */
  served: 'served',
  exited: 'exited',
  /** A message the frame could not understand. */
  error: 'error',
} as const;

/** Everything to start one process in the frame (what `StartMessage` is for a worker, minus shared memory). */
export interface FrameStart {
  v: typeof FRAME_PROTOCOL;
  type: typeof ToFrame.start;
  /** This start's id, unique per container (a restarted process keeps its pid, not its sid). */
  sid: number;
  pid: number;
  name: string;
  /** Content hash of `bytes`: the frame compiles a module once per hash. */
  sha256: string;
  /** The module with its memory cap written in; omitted once the frame has this hash. */
  bytes?: Uint8Array;
  /** A JS module's text, instead of a WebAssembly module. */
  script?: string;
  maxPages: number;
  args: string[];
  env: string[];
  preopens: string[];
  files: Array<[string, Uint8Array]>;
  tty: boolean;
  stdoutIsPipe: boolean;
  grants: Grants;
  watchdogMs?: number;
  /** Sizes of the frame's own stdio rings, as the kernel's (powers of two). */
  rings: { stdin: number; stdout: number; stderr: number };
  /** A migratable module: it can be parked (`park`), and this start may resume a snapshot. */
  migrate?: { resume?: Snapshot };
  /** A service module: instantiated, then it serves `serve` messages (ADR 0032). */
  serve?: boolean;
  /** A service's config values (Extism's `config_get`). */
  serviceConfig?: Record<string, string>;
  /** A service's Extism limits, and the bytes of the modules linked into it by name (the frame compiles them). */
  extism?: { maxBytes?: number; maxVarBytes?: number; linked?: Array<{ name: string; bytes: Uint8Array }> };
}

export interface FrameBoot {
  v: typeof FRAME_PROTOCOL;
  type: typeof ToFrame.boot;
  /** The process runtime's worker script (an ES module), run from a blob: URL in the frame. */
  workerCode: string;
}

/** One bus message on its way into the frame: its topic, its bytes, and the pid that published it. */
export interface BusDelivery {
  topic: string;
  data: Uint8Array;
  from: number;
}

export type ToFrameMessage =
  | FrameStart
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.stdin; sid: number; data: Uint8Array }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.stdinEnd; sid: number }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.ack; sid: number; fd: 1 | 2; bytes: number }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.readerGone; sid: number; fd: 1 | 2 }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.reply; sid: number; id: number; ok: boolean; value?: unknown; error?: KernelErrorData }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.bus; sid: number; slot: number; messages: BusDelivery[] }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.input; sid: number; window: number; events: Int32Array; closed: boolean }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.kill; sid: number }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.park; sid: number }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.unpark; sid: number }
  | { v: typeof FRAME_PROTOCOL; type: typeof ToFrame.serve; sid: number; id: number; fn: string; input: Uint8Array; until?: number };

export type FromFrameMessage =
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.ready }
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.running; sid: number }
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.out; sid: number; fd: 1 | 2; data: Uint8Array }
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.stdinAck; sid: number; bytes: number }
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.call; sid: number; id: number; call: string; args: unknown; reply: ReplyMode }
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.served; sid: number; id: number; ok: boolean; output?: Uint8Array; error?: KernelErrorData }
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.exited; sid: number; code: number; reason: ExitReason; message?: string }
  | { v: typeof FRAME_PROTOCOL; type: typeof FromFrame.error; error: KernelErrorData };
