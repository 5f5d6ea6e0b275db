/**
 * Kernel services: capability areas (bus, graphics, ...) that register guest calls, give
 * processes shared memory, and react to process ends. The kernel starts each one at creation.
 */
import type { CallTable, Caller } from './calls';
import type { ModuleInfo, ProcessInfo } from './types';

/** What a service gets from the kernel. */
export interface ServiceHost {
  /** Guest calls; register handlers named `<service>.<verb>`. */
  readonly calls: CallTable;
  /** Shared memory handed to every process started from now on, by name. */
  share(name: string, sab: SharedArrayBuffer): void;
  /** Called when a process is created, before its module runs. */
  onSpawn(listener: (pid: number, info: ModuleInfo) => void): void;
  /** Called after a process ended (its row is final). */
  onExit(listener: (p: ProcessInfo) => void): void;
  /** Ends a process (a closed window ends its module). */
  kill(pid: number): Promise<void>;
  /** The process table row of a pid, if it is still known. */
  process(pid: number): ProcessInfo | undefined;
  /** Dispatches an event on the kernel (e.g. `windows`, `bus`), for the shell. */
  emit(type: string): void;
  /** Records an attempt refused for want of a grant (the shell shows them). */
  denied(caller: Caller, permission: string): void;
}

/** A service: set up once per kernel; what it returns is exposed as `kernel[name]`. */
export interface Service<Api> {
  readonly name: string;
  start(host: ServiceHost): Api;
}
