/**
 * What the worker glue offers the providers of `webmk` imports: the guest's memory, its grants,
 * and calls into the kernel (blocking, or awaited from a suspended module via JSPI).
 */
import { KernelError, type Grants, type KernelErrorData, type ProcessExit } from '../common';
import {
  FromWorker,
  ReplyBy,
  WORKER_PROTOCOL,
  beginSyncCall,
  killedFlag,
  CallSpace,
  type DirectGrant,
  waitSyncCall,
  type FromWorkerMessage,
  type ServeStop,
  type StartMessage,
} from '../ipc';

/** Brackets host calls for the watchdog (see ipc/watchdog.ts). */
export interface Watch {
  enter(): void;
  leave(): void;
}

/** A function the module imports: numbers in, a number (often -errno) out. */
export type GuestFunction = (...args: number[]) => number;

/** Imports one provider adds to the `webmk` namespace. */
export type GuestImports = Record<string, GuestFunction | WebAssembly.Suspending>;

/** One process's view of the kernel, for import providers. */
export interface GuestContext {
  readonly pid: number;
  readonly grants: Grants;
  readonly shared: Record<string, SharedArrayBuffer>;
  /** Nothing is shared with the kernel: see `StartMessage.relayed`. */
  readonly relayed: boolean;
  /**
   * The realm may not block (the page): blocking imports must suspend (`suspending`) and use
   * `call`; `callSync` is refused.
   */
  readonly suspend: boolean;
  /** The guest's memory as it is now (it can grow: take a fresh view per call). */
  memory(): Uint8Array;
  /** Calls the kernel and blocks this worker until it answers; throws a KernelError on refusal. */
  callSync(call: string, args: unknown): unknown;
  /** Calls the kernel without blocking (for JSPI-suspending imports); the answer may carry objects. */
  call(call: string, args: unknown): Promise<unknown>;
  /** Tells the kernel something; no answer. `transfer` moves objects (an ImageBitmap) instead of copying. */
  notify(call: string, args: unknown, transfer?: Transferable[]): void;
  /**
   * An import that suspends the module (JSPI) while `fn` settles; the watchdog counts the wait as
   * time in a host call, as it does for a blocking one.
   */
  suspending(fn: (...args: number[]) => Promise<number>): WebAssembly.Suspending;
  /**
   * Throws (trapping the module) once the kernel has ended this process: a worker runs on for
   * a moment after `terminate()`, and must not publish or call for a process reported dead.
   */
  checkAlive(): void;
  /** A migratable process (in a realm that may block): where it can be parked. */
  readonly parking?: ParkHooks;
  /** Direct service calls (ADR 0027), where this realm shares the kernel's call space and may block. */
  readonly direct?: DirectCalls;
}

/** A process's direct paths to service instances, and what a direct call needs to know of it. */
export interface DirectCalls {
  readonly space: CallSpace;
  /** Its own slot, when it is a service instance that has one (a node of the wait-for graph). */
  readonly me: number | undefined;
  /** What the kernel granted, by service name. */
  readonly grants: Map<string, DirectGrant>;
  /** The deadline of the call it serves now (ms since the epoch); Infinity when it serves none. */
  until: number;
}

/** The direct-call state of the process `m` starts, or undefined where it cannot have one. */
function directCalls(m: StartMessage): DirectCalls | undefined {
  const sab = m.shared.calls;
  // A JS module calls asynchronously, through the kernel; wasm reaches only its imports.
  if (sab === undefined || m.module === undefined || m.relayed === true || m.suspend === true) return undefined;
  return { space: new CallSpace(sab), me: m.callSlot?.slot, grants: new Map(), until: Infinity };
}

/**
 * Where a migratable process can be parked (ADR 0019), for the providers of blocking imports:
 * whether the kernel asks it to park, unwinding (the import returns what `park` returns), and
 * the state a provider keeps across a move (captured with the snapshot, given back after).
 */
export interface ParkHooks {
  shouldPark(): boolean;
  park(where: string): number;
  /**
   * Called first by a blocking import that is not a plain function (a JSPI `Suspending`, which
   * cannot be wrapped): a resume's rewind that has reached the call it was parked in ends here.
   */
  rewound(): void;
  keep(provider: string, capture: () => unknown): void;
  /** What `provider` kept, in the snapshot this start resumes (undefined on a first start). */
  kept(provider: string): unknown;
}

/** A process in this worker: how it ends, and where replies to its calls go. */
export interface RunningProcess {
  exit: Promise<ProcessExit>;
  settle(id: number, ok: boolean, value: unknown, error: unknown): void;
  /** A service process: runs export `fn` with `input` to its end (absent for a command); `until` is the call's deadline (ms since the epoch). */
  serve?(fn: string, input: Uint8Array, until?: number): ServeOutcome;
  /**
   * A service on the page (which may not block): runs export `fn` as a promise (JSPI), so its
   * blocking imports suspend it; refuses with `kernel/timeout` once its deadline has passed (ADR 0032).
   */
  serveAsync?(fn: string, input: Uint8Array, until?: number): Promise<ServeOutcome>;
  /** A service with a call slot: serves direct calls until a message comes (`received` behind), it ends, or the slot does. */
  serveDirect?(received: () => number): ServeStop;
}

/** How one service call ended. */
export type ServeOutcome = { ok: true; output: Uint8Array } | { ok: false; error: KernelErrorData };

/** Unwinds a module the kernel has already ended. */
export class ProcessKilled extends Error {}

/** Builds the imports of one capability area for a process. */
export type GuestProvider = (ctx: GuestContext) => GuestImports;

type Post = (msg: FromWorkerMessage, transfer?: Transferable[]) => void;

/** The context for one process, and the hook that settles its async calls. */
export function createGuestContext(
  m: StartMessage,
  post: Post,
  memory: () => WebAssembly.Memory | undefined,
  watch?: Watch,
  parking?: ParkHooks,
): { ctx: GuestContext; settle: (id: number, ok: boolean, value: unknown, error: unknown) => void } {
  let nextId = 1;
  let view: Uint8Array | undefined;
  const killed = killedFlag(m.syscall);
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: unknown) => void }>();
  const send = (call: string, args: unknown, reply: (typeof ReplyBy)[keyof typeof ReplyBy], transfer?: Transferable[]): number => {
    const id = nextId++;
    post({ v: WORKER_PROTOCOL, type: FromWorker.call, pid: m.pid, id, call, args, reply }, transfer);
    return id;
  };
  const direct = directCalls(m);
  const ctx: GuestContext = {
    pid: m.pid,
    grants: m.grants,
    shared: m.shared,
    relayed: m.relayed === true,
    suspend: m.suspend === true,
    memory: () => {
      const mem = memory();
      if (mem === undefined) return new Uint8Array(0);
      // One view per buffer: a grown memory has a new buffer, and gets a new view.
      if (view?.buffer !== mem.buffer) view = new Uint8Array(mem.buffer);
      return view;
    },
    callSync: (call, args) => {
      ctx.checkAlive();
      if (ctx.suspend) throw new KernelError('kernel/unsupported', `"${call}" would block a realm that may not block`);
      beginSyncCall(m.syscall);
      send(call, args, ReplyBy.sab);
      const answer = waitSyncCall(m.syscall);
      if (!answer.ok) throw KernelError.from(answer.error);
      return answer.value;
    },
    call: (call, args) =>
      new Promise((ok, fail) => {
        pending.set(send(call, args, ReplyBy.message), { ok, fail });
      }),
    notify: (call, args, transfer) => void send(call, args, ReplyBy.none, transfer),
    suspending: (fn) =>
      new WebAssembly.Suspending(
        watch === undefined
          ? fn
          : async (...args: number[]) => {
              watch.enter();
              try {
                return await fn(...args);
              } finally {
                watch.leave();
              }
            },
      ),
    checkAlive: () => {
      if (killed()) throw new ProcessKilled('the process was killed');
    },
    ...(parking !== undefined ? { parking } : {}),
    ...(direct !== undefined ? { direct } : {}),
  };
  const settle = (id: number, ok: boolean, value: unknown, error: unknown): void => {
    const p = pending.get(id);
    if (p === undefined) return;
    pending.delete(id);
    if (ok) p.ok(value);
    else p.fail(KernelError.from(error));
  };
  return { ctx, settle };
}
