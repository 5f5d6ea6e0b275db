/**
 * Restart decisions (Erlang/OTP's restart types and intensity, with the backoff OTP lacks and
 * the reset systemd added late): after each end of a process, whether it starts again, when, or
 * whether it has used up its restarts. Pure: time is passed in.
 */
import type { ProcessExit, RestartPolicy } from '../common';

/** A restart policy with every default filled in. */
export interface Policy {
  restart: RestartPolicy['restart'];
  intensity: number;
  periodMs: number;
  initialMs: number;
  factor: number;
  maxMs: number;
  resetAfterMs: number;
  /** Where a remote process restarts after `link-lost`: `local`, or a node id (absent: the same node). */
  fallback?: string;
}

/** The defaults: 3 restarts a minute, waiting 100 ms, doubling up to 30 s, reset after a quiet minute. */
export const DEFAULT_POLICY: Policy = {
  restart: 'temporary',
  intensity: 3,
  periodMs: 60_000,
  initialMs: 100,
  factor: 2,
  maxMs: 30_000,
  resetAfterMs: 60_000,
};

/** What to do after an end. */
export type Decision = { kind: 'stop' } | { kind: 'restart'; delayMs: number } | { kind: 'limit' };

/** A policy with its defaults. */
export function policyOf(p: RestartPolicy | undefined): Policy {
  const b = p?.backoff ?? {};
  return {
    restart: p?.restart ?? DEFAULT_POLICY.restart,
    intensity: p?.intensity ?? DEFAULT_POLICY.intensity,
    periodMs: p?.periodMs ?? DEFAULT_POLICY.periodMs,
    initialMs: b.initialMs ?? DEFAULT_POLICY.initialMs,
    factor: b.factor ?? DEFAULT_POLICY.factor,
    maxMs: b.maxMs ?? DEFAULT_POLICY.maxMs,
    resetAfterMs: b.resetAfterMs ?? DEFAULT_POLICY.resetAfterMs,
    ...(p?.fallback !== undefined ? { fallback: p.fallback } : {}),
  };
}

/** An end that is not a clean `exit(0)`: a nonzero exit, a trap, a memory limit, a watchdog. */
export function abnormal(end: ProcessExit): boolean {
  return end.reason !== 'exited' || end.code !== 0;
}

/** One process's restarts: the times of recent ones, and how many came in a row. */
export class RestartHistory {
  private times: number[] = [];
  private streak = 0;

  constructor(readonly policy: Policy) {}

  /**
   * Decides after an end. `requested` is an end someone asked for (a kill): never restarted.
   * `ranMs` is how long the incarnation ran: long enough, and the backoff starts over.
   */
  decide(end: ProcessExit, requested: boolean, ranMs: number, now: number): Decision {
    const p = this.policy;
    const wanted = !requested && (p.restart === 'permanent' || (p.restart === 'transient' && abnormal(end)));
    if (!wanted) return { kind: 'stop' };
    if (ranMs >= p.resetAfterMs) this.streak = 0;
    this.times = this.times.filter((t) => now - t < p.periodMs);
    if (this.times.length >= p.intensity) return { kind: 'limit' };
    this.times.push(now);
    const delayMs = Math.min(p.maxMs, p.initialMs * p.factor ** this.streak);
    this.streak += 1;
    return { kind: 'restart', delayMs };
  }

  /** Forgets every restart (an explicit `kernel.restart`). */
  reset(): void {
    this.times = [];
    this.streak = 0;
  }
}
