/**
 * Wire protocol between the kernel (page) and a module's worker host. Types only; parsers are
 * in worker-parse.ts. Both sides are kernel-owned code; module code never sees these messages.
 */
import type { ExitReason, Grants, KernelErrorData } from '../common';
import type { MigrateStart } from './migrate-protocol';

export const WORKER_PROTOCOL = 1;

/** What the name of a worker's lifetime lock begins with (see `ReadyMessage.lock`). */
export const WORKER_LOCK_PREFIX = 'webmk:worker:';

/** Message tags, page to worker. */
export const ToWorker = {
  start: 'start',
  reply: 'reply',
  serve: 'serve',
} as const;

/** Message tags, worker to page. */
export const FromWorker = {
  ready: 'ready',
  running: 'running',
  exited: 'exited',
  error: 'error',
  call: 'call',
  served: 'served',
} as const;

/** How a guest call wants its answer. */
export const ReplyBy = {
  /** The worker blocks on its sync-call buffer (a module in plain wasm code). */
  sab: 'sab',
  /** A `reply` message (a suspended module, JSPI); may carry transferred objects. */
  message: 'message',
  /** No answer (a notice). */
  none: 'none',
} as const;
export type ReplyMode = (typeof ReplyBy)[keyof typeof ReplyBy];

/** Everything a WASI process is made of: what a host needs to start one, in any realm. */
export interface WasiProcessOptions {
  /** argv, argv[0] included. */
  args: string[];
  /** `NAME=value` strings, exactly. */
  env: string[];
  preopens: string[];
  files: Array<[string, Uint8Array]>;
  /** Preopens that are the module's home: the kernel keeps them (ADR 0018). */
  homes?: string[];
  /** Those of `homes` the file server keeps in OPFS for module `module`, through `fileChannel` (ADR 0025). */
  opfsHome?: { module: string; dirs: string[] };
  stdin: SharedArrayBuffer;
  stdout: SharedArrayBuffer;
  stderr: SharedArrayBuffer;
  /** stdout feeds another module: once that reader is gone, writes fail with EPIPE. */
  stdoutIsPipe: boolean;
  tty: boolean;
  /** Leave the stdio rings open at exit: the process may be restarted on them (the kernel closes them). */
  keepStdio: boolean;
  /** A migratable module (ADR 0019): how the kernel parks it, and the snapshot it resumes from. */
  migrate?: MigrateStart;
}

/** Start one process in this worker. The worker is idle again once it answers `exited`. */
export interface StartMessage extends WasiProcessOptions {
  v: typeof WORKER_PROTOCOL;
  type: typeof ToWorker.start;
  pid: number;
  /** The compiled WebAssembly module to run; absent when it runs a JS module (`scriptUrl`). */
  module?: WebAssembly.Module;
  /** A `blob:` URL of a JS module's text, to `import()` and call its `main` with a handle. */
  scriptUrl?: string;
  /** The memory cap in 64 KiB pages, to tell a trap at the cap from any other trap. */
  maxPages: number;
  /** What the person granted this module beyond WASI. */
  grants: Grants;
  /** This process's sync-call buffer (see sync-call.ts). */
  syscall: SharedArrayBuffer;
  /** Its channel to the file server, which keeps `opfsHome` (file-channel.ts). */
  fileChannel?: SharedArrayBuffer;
  /** Shared memory of kernel capabilities (the bus), keyed by capability name. */
  shared: Record<string, SharedArrayBuffer>;
  /** The watchdog words (see watchdog.ts), when the process has a watchdog. */
  watch?: SharedArrayBuffer;
  /**
   * The process's realm shares no memory and no objects with the kernel (the iframe mode): the
   * bus arena in `shared` is a local mirror (receiving reads it as usual, publishing is a
   * `bus.publish` call), and a window is drawn on a canvas of the process's own whose frames go
   * to the kernel as ImageBitmaps (`gfx.frame`).
   */
  relayed?: boolean;
  /**
   * The realm may not block (the page, in the `inpage` mode): every blocking import suspends the
   * module (JSPI) instead, and `_start` runs as a promise.
   */
  suspend?: boolean;
  /**
   * Where the kernel cannot interrupt the module (the page), the watchdog is this check instead:
   * the first host call after computing longer than this many milliseconds is refused and the
   * process ends `watchdog-expired`.
   */
  refuseAfterMs?: number;
  /**
   * A service module: it has no `_start`; it is instantiated (`_initialize` run, if exported) and
   * then serves `serve` messages, one at a time, until it is ended.
   */
  serve?: boolean;
  /** A service's config values (its manifest's `service.config`), read with Extism's `config_get`. */
  serviceConfig?: Record<string, string>;
  /** A service's slot in the call space (`shared.calls`), where it serves direct calls (ADR 0027). */
  callSlot?: { slot: number; serial: number };
  /** The rest of a service's Extism manifest: limits, and modules linked into it. */
  extism?: ExtismStart;
  /** Service modules instantiated beside it, in its worker (its instance group, ADR 0033). */
  group?: GroupMember[];
}

/** A provider linked in-process: its imports from namespace `name` call this module's exports directly. */
export interface GroupMember {
  name: string;
  module: WebAssembly.Module;
  /** Its manifest's `service.config`, read with Extism's `config_get`. */
  config: Record<string, string>;
  /** Its own Extism limits and linked modules, as its service instance would have them. */
  extism?: ExtismStart;
}

/** What an Extism plugin's instance is given beyond its config (ADR 0026). */
export interface ExtismStart {
  /** Bytes its Extism memory blocks may hold at once (the manifest's `memory.max_pages`, in bytes). */
  maxBytes?: number;
  /** Bytes of vars it may keep (`memory.max_var_bytes`). */
  maxVarBytes?: number;
  /**
   * Modules linked into it by name (`wasm`): its imports from namespace `name` are `module`'s
   * exports. `bytes` (capped as `module` is) for a host that compiles them itself (the container frame).
   */
  linked?: Array<{ name: string; module: WebAssembly.Module; bytes?: Uint8Array }>;
}

/** Call export `fn` of a service process with `input` (the Extism ABI: bytes in, bytes out). */
export interface ServeMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof ToWorker.serve;
  pid: number;
  id: number;
  fn: string;
  input: Uint8Array;
  /** The call's deadline, ms since the epoch: a call the service makes meanwhile keeps it. */
  until?: number;
}

/** How a `serve` ended: the output, or a refusal (`service/no-such-function`, `service/error`). */
export interface ServedMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof FromWorker.served;
  pid: number;
  id: number;
  ok: boolean;
  output?: Uint8Array;
  error?: KernelErrorData;
}

/** The answer to a guest call made with `ReplyBy.message`. */
export interface ReplyMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof ToWorker.reply;
  pid: number;
  id: number;
  ok: boolean;
  value?: unknown;
  error?: KernelErrorData;
}

/** A module, through its glue, asks the kernel for something. */
export interface CallMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof FromWorker.call;
  pid: number;
  id: number;
  call: string;
  args: unknown;
  reply: ReplyMode;
}

/** The worker has loaded and waits for `start`. */
export interface ReadyMessage {
  v: typeof WORKER_PROTOCOL;
  type: typeof FromWorker.ready;
  /**
   * A Web Lock the worker holds until it ends: the page is told nothing when a worker closes
   * itself or its thread dies, but a request for this lock is then granted.
   */
  lock?: string;
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

export type ToWorkerMessage = StartMessage | ReplyMessage | ServeMessage;
export type FromWorkerMessage = ReadyMessage | RunningMessage | ExitedMessage | ErrorMessage | CallMessage | ServedMessage;
