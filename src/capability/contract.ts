/**
 * The contract between the kernel and its capabilities (bus, graphics, and the ones to come). It
 * lives below both: a capability implements `KernelCapability`, the kernel starts it with a
 * `CapabilityHost`, and neither imports the other.
 */
import type { ModuleInfo, ProcessInfo } from '../common';
import type { CallTable, Caller } from './calls';

/** What a capability gets from the kernel. */
export interface CapabilityHost {
  /** Guest calls; register handlers named `<capability>.<verb>`. */
  readonly calls: CallTable;
  /** Shared memory handed to every process started from now on, by name. */
  share(name: string, sab: SharedArrayBuffer): void;
  /** Called each time a process starts (a restart too), before its module runs. */
  onSpawn(listener: (pid: number, info: ModuleInfo) => void): void;
  /**
   * Called each time a process ends. `final` is false when it will be restarted under the same
   * pid (what it holds for its next incarnation, such as subscriptions, may be kept); true once
   * it is gone for good.
   */
  onEnd(listener: (p: ProcessInfo, final: boolean) => void): void;
  /**
   * Called when a migratable process's host ended parked (moved, or hibernated): it runs again
   * from its snapshot, in a fresh host, and what a capability gave the old host (a canvas) is
   * gone with it. Its pid, and what the kernel holds for it, stay.
   */
  onPark(listener: (pid: number, parked: ParkedProcess) => void): void;
  /** Resumes a hibernated process: something was addressed to it (input in its window). */
  wake(pid: number): void;
  /**
   * Registers how this capability holds a process still so it can be ended between two steps
   * (an update restarts it into new code): `hold` answers `held` (it is at such a point and is
   * kept there), `busy` (not yet: it may be asked to stop at its next such point, and `hold` is
   * asked again), or `none` (nothing of this capability tells); `release` lets it go on. What is
   * held is let go when it ends.
   */
  onHold(hold: (pid: number) => 'held' | 'busy' | 'none', release: (pid: number) => void): void;
  /** Ends a process (a closed window ends its module). */
  kill(pid: number): Promise<void>;
  /** The process table row of a pid, if it is still known. */
  process(pid: number): ProcessInfo | undefined;
  /** Dispatches an event on the kernel (e.g. `windows`, `bus`), for the shell. */
  emit(type: string): void;
  /** Records an attempt refused for want of a grant (the shell shows them). */
  denied(caller: Caller, permission: string): void;
  /**
   * Registers what counts the things the capability holds (subscriptions, windows, ...), each
   * read from the structure that holds them; `kernel.resources()` reports them under `name`.
   */
  resources(name: string, count: () => Record<string, number>): void;
}

/** What a parked process left: its memory, and what each provider in its runtime kept (by provider name). */
export interface ParkedProcess {
  memory: Uint8Array;
  providers: Record<string, unknown>;
  /** Its module. */
  info: ModuleInfo;
  /** Brought back hibernated after a reload of the page: nothing of it is shown yet. */
  restored?: boolean;
}

/** A capability: started once per kernel; what `start` returns is exposed as `kernel[name]`. */
export interface KernelCapability<Api> {
  readonly name: string;
  start(host: CapabilityHost): Api;
}
