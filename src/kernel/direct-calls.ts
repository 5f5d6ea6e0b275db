/**
 * The kernel's side of direct service calls (ADR 0027): the call space every worker process
 * shares, the grants of a direct path (handed with the answer of a call the kernel routed and
 * allowed), and the part of the wait-for graph that lives in the call space, so that a call
 * loop is refused whichever path its calls took. The kernel keeps deciding: a path is granted
 * only to a caller in the worker mode for a running instance with no update waiting, and every
 * change to what is installed or granted (the epoch) sends callers back through the kernel.
 */
import type { Caller } from '../capability';
import { type CallSpace, type DirectGrant, CALL_COUNTERS, CALL_SLOTS, CallState, epochNow, unthrottledTimer } from '../ipc';
import type { Lifecycle } from './lifecycle';

/** A live service instance as the direct paths see it (services.ts holds the rest). */
export interface ServiceInstance {
  readonly name: string;
  readonly lc: Pick<Lifecycle, 'callSlot' | 'row' | 'updatePending'>;
  readonly switching: boolean;
  /** The service it is blocked calling through the kernel, while it is; `token` tells which call set it. */
  waitingOn: { target: string; token: object } | undefined;
}

/** What the direct paths need of the service calls. */
export interface DirectDeps<I extends ServiceInstance> {
  instances(): Iterable<I>;
  directCaller(pid: number): boolean;
  timeoutMs(inst: I): number;
  /** Ends and restarts an instance whose direct call was given up while it ran. */
  restart(inst: I): void;
}

/** Direct paths between module workers and service instances. */
export class DirectPaths<I extends ServiceInstance> {
  private readonly counters = new Map<string, number>();

  constructor(
    readonly space: CallSpace,
    private readonly deps: DirectDeps<I>,
  ) {}

  /** A direct path for `caller` to service `module`, when one can hold the kernel's rules. */
  grant(caller: Caller, module: unknown): DirectGrant | undefined {
    if (typeof module !== 'string' || !this.deps.directCaller(caller.pid)) return undefined;
    // A service instance that has no slot could not show the calls it waits on: it stays with the kernel.
    const self = this.find((i) => i.name === caller.name && i.lc.row.pid === caller.pid);
    if (self !== undefined && self.lc.callSlot === undefined) return undefined;
    const inst = this.find((i) => i.name === module);
    const at = inst?.lc.callSlot;
    if (inst === undefined || at === undefined || inst.switching || inst.lc.updatePending) return undefined;
    const counter = this.counter(module);
    if (counter === undefined) return undefined;
    return { slot: at.slot, serial: at.serial, epoch: this.space.epoch(), timeoutMs: this.deps.timeoutMs(inst), counter };
  }

  /** A caller gave up a direct call at its deadline while it ran: the instance is ended and started fresh. */
  expired(caller: Caller, args: unknown): void {
    const a = (typeof args === 'object' && args !== null ? args : {}) as { slot?: unknown; serial?: unknown };
    const inst = this.find((i) => i.lc.callSlot?.slot === a.slot && i.lc.callSlot?.serial === a.serial);
    if (inst === undefined || typeof a.slot !== 'number') return;
    const now = this.space.state(a.slot);
    if (now.caller === caller.pid && now.state === CallState.ABANDONED) this.deps.restart(inst);
  }

  /** Process `pid` ended: its direct calls are withdrawn; one still running keeps its deadline, then its instance is ended. */
  callerEnded(pid: number): void {
    for (const slot of this.space.sweep(pid)) {
      const inst = this.find((i) => i.lc.callSlot?.slot === slot);
      const serial = inst?.lc.callSlot?.serial;
      if (inst === undefined) continue;
      const timer = unthrottledTimer(Math.max(0, (this.space.deadline(slot)[0] ?? 0) - epochNow()));
      void timer.fired.then(() => {
        if (inst.lc.callSlot?.serial === serial && this.space.state(slot).state === CallState.ORPHANED) this.deps.restart(inst);
      });
    }
  }

  /** What is installed or granted changed: every direct path is asked for again. */
  invalidate(): void {
    this.space.bumpEpoch();
  }

  /** Sets (or clears) what `inst` waits on, in the kernel's table and in the call space. */
  setWaiting(inst: I, to: ServiceInstance['waitingOn']): void {
    inst.waitingOn = to;
    const me = inst.lc.callSlot;
    if (me === undefined) return;
    const target = to === undefined ? undefined : this.find((i) => i.name === to.target)?.lc.callSlot;
    this.space.setWaiting(me.slot, to === undefined ? 0 : target === undefined ? -1 : target.slot + 1);
  }

  /** The service `inst` waits on, by whichever path it called. */
  waitsOn(inst: I | undefined): string | undefined {
    if (inst === undefined) return undefined;
    const me = inst.lc.callSlot;
    if (me === undefined) return inst.waitingOn?.target;
    const w = this.space.waiting(me.slot);
    if (w < 0) return inst.waitingOn?.target;
    if (w === 0 || w > CALL_SLOTS) return undefined;
    return this.find((i) => i.lc.callSlot?.slot === w - 1)?.name;
  }

  /** Whether a direct call is under way in `inst`. */
  busy(inst: I): boolean {
    const at = inst.lc.callSlot;
    return at !== undefined && this.space.busy(at.slot);
  }

  /** Whether a direct call runs in `inst` now. */
  running(inst: I): boolean {
    const at = inst.lc.callSlot;
    return at !== undefined && this.space.running(at.slot);
  }

  /** Direct calls of service `name` so far, and how many failed. */
  counted(name: string): { calls: number; errors: number } {
    const c = this.counters.get(name);
    return c === undefined ? { calls: 0, errors: 0 } : this.space.counted(c);
  }

  /** Closes `inst`'s slot to new direct calls and settles once those under way ended. */
  async drain(inst: I): Promise<void> {
    const at = inst.lc.callSlot;
    if (at === undefined) return;
    this.space.close(at.slot);
    await this.space.drained(at.slot);
  }

  /** Opens again a slot `drain` closed, when the same start still runs (it was not replaced after all). */
  reopen(inst: I): void {
    const at = inst.lc.callSlot;
    if (at !== undefined) this.space.reopen(at.slot);
  }

  private counter(name: string): number | undefined {
    let c = this.counters.get(name);
    if (c === undefined && this.counters.size < CALL_COUNTERS) {
      c = this.counters.size;
      this.counters.set(name, c);
    }
    return c;
  }

  private find(p: (i: I) => boolean): I | undefined {
    for (const i of this.deps.instances()) if (p(i)) return i;
    return undefined;
  }
}
