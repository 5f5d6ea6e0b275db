/**
 * The kernel's side of the capability contract: it starts each capability with a host, answers
 * their guest calls through one call table, hands processes their shared memory, tells them of
 * spawns and exits, and keeps the log of refused attempts.
 */
import { CallTable, type Caller, type CapabilityHost, type KernelCapability, type ParkedProcess } from '../capability';
import { KernelError, type ModuleInfo, type ProcessInfo } from '../common';
import { KernelEvents, type DeniedAttempt } from './types';

/** How many refused attempts are kept. */
const DENIED_KEPT = 100;

/** What the capabilities need of the kernel itself. */
export interface CapabilityKernel {
  kill(pid: number): Promise<void>;
  process(pid: number): ProcessInfo | undefined;
  emit(type: string): void;
  /** Resumes `pid` if it is hibernated (input addressed to it). */
  wake(pid: number): void;
}

/** The started capabilities and what they registered. */
export class Capabilities {
  /** Guest calls into the kernel, by name; capabilities add theirs. */
  readonly calls = new CallTable();
  /** Shared memory every process gets (capability name to buffer). */
  readonly shared: Record<string, SharedArrayBuffer> = {};
  private readonly endListeners: Array<(p: ProcessInfo, final: boolean) => void> = [];
  private readonly spawnListeners: Array<(pid: number, info: ModuleInfo) => void> = [];
  private readonly parkListeners: Array<(pid: number, parked: ParkedProcess) => void> = [];
  private readonly holders: Array<{ hold: (pid: number) => 'held' | 'busy' | 'none'; release: (pid: number) => void }> = [];
  private readonly deniedLog: DeniedAttempt[] = [];
  private readonly apis = new Map<string, unknown>();
  private readonly counters = new Map<string, () => Record<string, number>>();
  readonly host: CapabilityHost;

  constructor(private readonly kernel: CapabilityKernel) {
    this.host = {
      calls: this.calls,
      share: (name, sab) => {
        this.shared[name] = sab;
      },
      onEnd: (listener) => this.endListeners.push(listener),
      onSpawn: (listener) => this.spawnListeners.push(listener),
      onPark: (listener) => this.parkListeners.push(listener),
      wake: (pid) => kernel.wake(pid),
      onHold: (hold, release) => this.holders.push({ hold, release }),
      kill: (pid) => kernel.kill(pid),
      process: (pid) => kernel.process(pid),
      emit: (type) => kernel.emit(type),
      denied: (caller, permission) => this.deny(caller, permission),
      resources: (name, count) => {
        this.counters.set(name, count);
      },
    };
  }

  /** Starts each capability; what it returns is its API (`kernel.bus`, `kernel.gfx`). */
  start(list: ReadonlyArray<KernelCapability<unknown>>): void {
    for (const c of list) this.apis.set(c.name, c.start(this.host));
  }

  /** The API of a started capability; `kernel/not-ready` when this kernel runs without it. */
  api<Api>(name: string, what: string): Api {
    if (!this.apis.has(name)) throw new KernelError('kernel/not-ready', `this kernel runs without ${what}`);
    return this.apis.get(name) as Api;
  }

  /** A process starts (again), before its module runs. */
  spawned(pid: number, info: ModuleInfo): void {
    for (const listener of this.spawnListeners) listener(pid, info);
  }

  /** A process ended (for good, or to be restarted); a capability that fails on it does not stop the others. */
  ended(row: ProcessInfo, final: boolean): void {
    for (const listener of this.endListeners) {
      try {
        listener(row, final);
      } catch (e) {
        console.error('a capability failed on process exit', e);
      }
    }
  }

  /** A process's host ended parked: it runs again from its snapshot, in a fresh host. */
  parked(pid: number, parked: ParkedProcess): void {
    for (const listener of this.parkListeners) {
      try {
        listener(pid, parked);
      } catch (e) {
        console.error('a capability failed on a parked process', e);
      }
    }
  }

  /**
   * Holds a process still where some capability says it is between two steps and none says it
   * is busy (an update may then end it). False otherwise: ask again later, or `release` it.
   */
  hold(pid: number): boolean {
    const answers = this.holders.map((h) => h.hold(pid));
    return answers.includes('held') && !answers.includes('busy');
  }

  /** Lets a held (or asked) process go on. */
  release(pid: number): void {
    for (const h of this.holders) h.release(pid);
  }

  /** Records an attempt refused for want of a grant. */
  deny(caller: Caller, permission: string): void {
    this.deniedLog.push({ pid: caller.pid, name: caller.name, permission, at: Date.now() });
    if (this.deniedLog.length > DENIED_KEPT) this.deniedLog.shift();
    this.kernel.emit(KernelEvents.denied);
  }

  /** What each capability holds now, by the name it reported under. */
  resources(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.counters].map(([name, count]) => [name, count()]));
  }

  /** The most recent refused attempts, oldest first. */
  denied(): DeniedAttempt[] {
    return this.deniedLog.map((d) => ({ ...d }));
  }
}
