/**
 * Checks of the supervision settings a spawn or a manifest gives (`restart`, `watchdogMs`). Each
 * returns the checked value or a sentence saying what is wrong; the caller picks the error code.
 */
import type { RestartPolicy } from './types';

const RESTART_TYPES: ReadonlyArray<RestartPolicy['restart']> = ['permanent', 'transient', 'temporary'];
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function nonNegative(x: unknown, name: string, integer = false): string | undefined {
  if (x === undefined) return undefined;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (integer && !Number.isInteger(x))) {
    return `${name} must be a non-negative ${integer ? 'integer' : 'number'}`;
  }
  return undefined;
}

/** A restart policy: `{ restart, intensity?, periodMs?, backoff? }`, or what is wrong with it. */
export function checkRestartPolicy(x: unknown): RestartPolicy | string {
  if (!isRecord(x)) return 'restart must be an object such as { restart: "transient" }';
  if (!RESTART_TYPES.includes(x.restart as RestartPolicy['restart'])) return 'restart.restart must be "permanent", "transient" or "temporary"';
  const problem =
    nonNegative(x.intensity, 'restart.intensity', true) ??
    nonNegative(x.periodMs, 'restart.periodMs') ??
    (x.backoff !== undefined && !isRecord(x.backoff) ? 'restart.backoff must be an object' : undefined);
  if (problem !== undefined) return problem;
  const b = isRecord(x.backoff) ? x.backoff : {};
  const bad =
    nonNegative(b.initialMs, 'restart.backoff.initialMs') ??
    nonNegative(b.maxMs, 'restart.backoff.maxMs') ??
    nonNegative(b.resetAfterMs, 'restart.backoff.resetAfterMs') ??
    (b.factor !== undefined && (typeof b.factor !== 'number' || !Number.isFinite(b.factor) || b.factor < 1) ? 'restart.backoff.factor must be a number of at least 1' : undefined);
  if (bad !== undefined) return bad;
  const pick = <T extends Record<string, unknown>>(o: T, keys: Array<keyof T>): Partial<T> =>
    Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<T>;
  const policy: RestartPolicy = { restart: x.restart as RestartPolicy['restart'], ...pick(x, ['intensity', 'periodMs']) };
  if (isRecord(x.backoff)) policy.backoff = pick(b, ['initialMs', 'factor', 'maxMs', 'resetAfterMs']);
  return policy;
}

/** A watchdog period in milliseconds (at least 10), or what is wrong with it. */
export function checkWatchdogMs(x: unknown): number | string {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 10) return 'watchdogMs must be a number of milliseconds, at least 10';
  return x;
}
