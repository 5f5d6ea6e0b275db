/**
 * Guest calls: what a module's glue asks the kernel (`bus.subscribe`, `kernel.list`, `gfx.open`,
 * ...). Each capability registers its handlers by name; an unknown name is refused with an error,
 * never silence.
 */
import { KernelError, type CallResult, type Grants } from '../common';

/** Who is calling: the process and what its module was granted when it started. */
export interface Caller {
  pid: number;
  name: string;
  grants: Grants;
  /** Which start of the pid is calling (a restarted process keeps its pid; this counts up). */
  incarnation: number;
}

/** Answers one kind of call; throws (or rejects with) a KernelError to refuse. */
export type CallHandler = (caller: Caller, args: unknown) => CallResult | Promise<CallResult>;

/** The guest calls the kernel answers, by name. */
export class CallTable {
  private readonly handlers = new Map<string, CallHandler>();

  /** Registers the handler of `call`; a second registration of the same name is a bug. */
  handle(call: string, handler: CallHandler): void {
    if (this.handlers.has(call)) throw new Error(`call ${call} is handled already`);
    this.handlers.set(call, handler);
  }

  /** Runs the handler of `call`; rejects with `ipc/unknown-call` when there is none. */
  async dispatch(caller: Caller, call: string, args: unknown): Promise<CallResult> {
    const h = this.handlers.get(call);
    if (h === undefined) throw new KernelError('ipc/unknown-call', `no kernel call named "${call}"`, { call });
    return h(caller, args);
  }
}
