/**
 * What two kernels say over a link about processes (types only; parse.ts checks them). The
 * caller asks; the node that runs the process answers. Every request carries an `id` the caller
 * chose, unique on that link; a process is named by the id of the `spawn` that made it.
 */
import type { ExitReason, KernelErrorData } from '../common';
import type { WireSnapshot } from './snapshot-wire';

/** The version every message carries. */
export const REMOTE_WIRE_VERSION = 1;

/** The message tags, as data. */
export const RemoteTag = {
  /** Is this module installed there? Answered by `found` or `fail`. */
  lookup: 'lookup',
  found: 'found',
  /** Run a module there; answered by `spawned` or `fail`. */
  spawn: 'spawn',
  spawned: 'spawned',
  fail: 'fail',
  /** Stdin bytes, and its end. */
  in: 'in',
  inEnd: 'in-end',
  /** Stdout (fd 1) or stderr (fd 2) bytes. */
  out: 'out',
  /** The receiver took `bytes` of stream `fd` (0 stdin, 1 stdout, 2 stderr) off the link: the sender may send that many more. */
  credit: 'credit',
  kill: 'kill',
  /** The process ended; sent after the last `out` of it. */
  exit: 'exit',
  /** A bus message the process published (to the caller), or one for it (to the node that runs it). */
  busOut: 'bus-out',
  busIn: 'bus-in',
  /**
   * The caller's module for a node that lacks it: its package (a zip, as the caller's registry
   * keeps it: manifest, signature, bytes). Answered by `found` once installed there, or `fail`.
   */
  carry: 'carry',
  /** The process's window opened there (or changed size): its frames follow. */
  winOpen: 'win-open',
  /** One frame of it (PNG); the next is sent once the caller acknowledges this one (`win-ack`). */
  winFrame: 'win-frame',
  winAck: 'win-ack',
  /** An input event for its window (six integers: type, x, y, button, key, mods). */
  winInput: 'win-input',
  /** Its window closed there. */
  winClose: 'win-close',
  /**
   * Call function `fn` of service `module` there, with `input`, within `timeoutMs` (as that
   * node's page would: `kernel.call`); answered by `called` with the output, or `fail`.
   */
  call: 'call',
  called: 'called',
  /** A message the receiver could not parse. */
  error: 'error',
} as const;

/** A module as the node that has it describes it to a caller. */
export interface RemoteModule {
  name: string;
  version: string;
  description: string;
  kind: 'wasm' | 'js';
  command: boolean;
  sha256: string;
  size: number;
  /** The hash of its instrumented bytes, when it is migratable there (a process moves only onto the same ones). */
  migratable?: string;
}

/** What a caller asks to run. */
export interface SpawnRequest {
  name: string;
  /** The caller's pid for it (the remote table shows it). */
  pid: number;
  /** argv[1..]. */
  args: string[];
  /** `KEY=value` entries. */
  env: string[];
  tty: boolean;
  preopens: string[];
  files: Array<[string, Uint8Array]>;
  /** A process moved here (`setMode(pid, 'remote')`): it resumes from this snapshot of the instrumented bytes `sha256`. */
  resume?: { sha256: string; snapshot: WireSnapshot };
}

interface Base {
  v: typeof REMOTE_WIRE_VERSION;
}

/** One message between two kernels about processes. */
export type RemoteMessage =
  | (Base & { type: typeof RemoteTag.lookup; id: number; name: string })
  | (Base & { type: typeof RemoteTag.found; id: number; module: RemoteModule })
  | (Base & { type: typeof RemoteTag.spawn; id: number; spawn: SpawnRequest })
  | (Base & { type: typeof RemoteTag.spawned; id: number; pid: number; subscribe: string[] })
  | (Base & { type: typeof RemoteTag.busOut | typeof RemoteTag.busIn; id: number; topic: string; data: Uint8Array })
  | (Base & { type: typeof RemoteTag.fail; id: number; error: KernelErrorData })
  | (Base & { type: typeof RemoteTag.in; id: number; data: Uint8Array })
  | (Base & { type: typeof RemoteTag.inEnd | typeof RemoteTag.kill; id: number })
  | (Base & { type: typeof RemoteTag.out; id: number; fd: 1 | 2; data: Uint8Array })
  | (Base & { type: typeof RemoteTag.credit; id: number; fd: 0 | 1 | 2; bytes: number })
  | (Base & { type: typeof RemoteTag.exit; id: number; code: number; reason: ExitReason; message?: string })
  | (Base & { type: typeof RemoteTag.carry; id: number; name: string; package: Uint8Array })
  | (Base & { type: typeof RemoteTag.winOpen; id: number; width: number; height: number })
  | (Base & { type: typeof RemoteTag.winFrame; id: number; width: number; height: number; data: Uint8Array })
  | (Base & { type: typeof RemoteTag.winAck | typeof RemoteTag.winClose; id: number })
  | (Base & { type: typeof RemoteTag.winInput; id: number; event: number[] })
  | (Base & { type: typeof RemoteTag.call; id: number; module: string; fn: string; input: Uint8Array; timeoutMs: number })
  | (Base & { type: typeof RemoteTag.called; id: number; output: Uint8Array })
  | (Base & { type: typeof RemoteTag.error; message: string });

/** A message before the version is added. */
export type RemoteUnsent = RemoteMessage extends infer M ? (M extends RemoteMessage ? Omit<M, 'v'> : never) : never;
