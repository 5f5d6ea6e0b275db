/**
 * The parking and resuming of one migratable process (ADR 0019), for its Lifecycle: the control
 * buffer each incarnation shares with its runtime, the request to park at the next safe point
 * (the runtime answers with a snapshot, then its host ends), and the snapshot the next start
 * resumes from.
 */
import { KernelError, type CallResult, type ExecutionMode } from '../common';
import type { HostedProcess } from '../hosts';
import { MigrateControl, parseSnapshot, sleepUnthrottled, type MigrateStart, type Snapshot } from '../ipc';

/** Modes whose host runs the migratable runtime (in a realm that may block). */
const PARKABLE_MODES: readonly ExecutionMode[] = ['worker', 'iframe'];

/** Where a start from a snapshot goes back to if it fails: its old mode, or hibernated. */
export interface Fallback {
  mode: ExecutionMode;
  snapshot: Snapshot;
  /** It was resumed from hibernation: it goes back to hibernated (its snapshot is still stored). */
  hibernated?: boolean;
}

export class Migration {
  /** This incarnation's control words (absent: not migratable here). */
  private control: MigrateControl | undefined;
  private resumeFrom: Snapshot | undefined;
  /** The snapshot the running incarnation sent, until its host has ended. */
  private snapshot: Snapshot | undefined;
  private waiting: { ok: (s: Snapshot) => void } | undefined;
  /**
   * While a move's target starts: where it came from and its snapshot, to go back if the start
   * fails; while a resume starts (`hibernated`): back to hibernated if it fails (ADR 0028).
   */
  private fallback: Fallback | undefined;

  /** `unparkable`: why a migratable module's process may not be parked all the same (its instance group, ADR 0033). */
  constructor(
    readonly migratable: boolean,
    private readonly unparkable?: string,
  ) {}

  /** Whether the running incarnation can be parked. */
  get parkable(): boolean {
    return this.control !== undefined;
  }

  /** Sets the snapshot the next start resumes from. */
  setResume(snapshot: Snapshot): void {
    this.resumeFrom = snapshot;
  }

  /** Remembers where a move came from until its target runs (`undefined`: it runs; forget it). */
  setFallback(f: Fallback | undefined): void {
    this.fallback = f;
  }

  /** The way back of a move whose target failed to start (once). */
  takeFallback(): Fallback | undefined {
    const f = this.fallback;
    this.fallback = undefined;
    return f;
  }

  /** The snapshot a start resumes from (once). */
  takeResume(): Snapshot | undefined {
    const s = this.resumeFrom;
    this.resumeFrom = undefined;
    return s;
  }

  /** What a start adds to the host's request: a fresh control buffer, and the snapshot if it resumes. */
  startFields(mode: ExecutionMode, resume: Snapshot | undefined): { migrate?: MigrateStart } {
    this.snapshot = undefined;
    if (mode === 'remote' && resume !== undefined) {
      // Moved to another node: it resumes there, and cannot be parked from here again.
      this.control = undefined;
      return { migrate: { control: new MigrateControl().sab, resume } };
    }
    if (!this.migratable || this.unparkable !== undefined || !PARKABLE_MODES.includes(mode)) {
      this.control = undefined;
      return {};
    }
    const control = new MigrateControl();
    this.control = control;
    return { migrate: { control: control.sab, ...(resume !== undefined ? { resume } : {}) } };
  }

  /** The runtime's notice with its snapshot (`process.parked`); refused when nobody asked. */
  async parked(args: unknown): Promise<CallResult> {
    if (this.control?.parkRequested !== true) {
      throw new KernelError('kernel/denied', 'this process was not asked to park');
    }
    this.snapshot = parseSnapshot(args);
    return { value: null };
  }

  /** The snapshot when the host that just ended had parked (once); undefined: it did not park. */
  endedParked(): Snapshot | undefined {
    const s = this.snapshot;
    this.snapshot = undefined;
    this.control = undefined;
    if (s === undefined) return undefined;
    const w = this.waiting;
    this.waiting = undefined;
    w?.ok(s);
    return s;
  }

  /**
   * Asks the running incarnation to park and wakes it; resolves with its snapshot once its host
   * has ended. Rejects with `migrate/not-migratable`, `migrate/busy` (not at a safe point
   * within `deadlineMs`; the request is withdrawn), `migrate/failed` (it ended otherwise).
   */
  park(hosted: HostedProcess, wake: () => void, deadlineMs: number): Promise<Snapshot> {
    const control = this.control;
    if (control === undefined) {
      const why = this.unparkable ?? (this.migratable ? 'its execution mode cannot park it yet (worker and iframe only)' : 'its module is not migratable (install it with { migratable: true })');
      return Promise.reject(new KernelError('migrate/not-migratable', `this process cannot be parked: ${why}`, { migratable: this.migratable }));
    }
    return new Promise<Snapshot>((ok, fail) => {
      let done = false;
      this.waiting = {
        ok: (s) => {
          done = true;
          ok(s);
        },
      };
      control.requestPark();
      hosted.park?.(true);
      wake();
      void hosted.exited.then(() => {
        // endedParked runs before this: anything else is an end that was not a park.
        if (done) return;
        done = true;
        this.waiting = undefined;
        fail(new KernelError('migrate/failed', 'the process ended before it could be parked'));
      });
      void sleepUnthrottled(deadlineMs).then(() => {
        if (done || this.snapshot !== undefined) return;
        done = true;
        this.waiting = undefined;
        control.withdraw();
        hosted.park?.(false);
        fail(new KernelError('migrate/busy', `the process did not reach a safe point (a blocking read) within ${deadlineMs} ms`, { deadlineMs }));
      });
    });
  }
}
