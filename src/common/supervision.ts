/**
 * Checks of the supervision settings a spawn, a manifest or a module's stored configuration gives
 * (`restart`, `watchdogMs`, `mode`, `autostart`, `startOrder`, `args`). Each returns the checked
 * value or a sentence saying what is wrong; the caller picks the error code.
 */
import type { ExecutionMode, ModuleConfig, RestartPolicy } from './types';

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
    (x.backoff !== undefined && !isRecord(x.backoff) ? 'restart.backoff must be an object' : undefined) ??
    (x.fallback !== undefined && (typeof x.fallback !== 'string' || x.fallback === '' || x.fallback.length > 128) ? 'restart.fallback must be "local" or a node id' : undefined);
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
  const policy: RestartPolicy = { restart: x.restart as RestartPolicy['restart'], ...pick(x, ['intensity', 'periodMs', 'fallback']) };
  if (isRecord(x.backoff)) policy.backoff = pick(b, ['initialMs', 'factor', 'maxMs', 'resetAfterMs']);
  return policy;
}

/** A watchdog period in milliseconds (at least 10), or what is wrong with it. */
export function checkWatchdogMs(x: unknown): number | string {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 10) return 'watchdogMs must be a number of milliseconds, at least 10';
  return x;
}

const EXECUTION_MODES: ReadonlyArray<ExecutionMode> = ['worker', 'iframe', 'inpage', 'remote'];

/** True for one of the four execution modes (whether it can run yet is the spawn's question). */
export function isExecutionMode(x: unknown): x is ExecutionMode {
  return EXECUTION_MODES.includes(x as ExecutionMode);
}

const MODE_PROBLEM = `mode must be one of ${EXECUTION_MODES.map((m) => `"${m}"`).join(', ')}`;

/** A place in the start-up order (an integer, lower starts first), or what is wrong. */
export function checkStartOrder(x: unknown): number | string {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) return 'startOrder must be an integer';
  return x;
}

/** The fields of a module's configuration. */
export const MODULE_CONFIG_FIELDS = ['mode', 'restart', 'watchdogMs', 'autostart', 'startOrder', 'args'] as const;
type ConfigField = (typeof MODULE_CONFIG_FIELDS)[number];
/** The configuration fields a manifest may give (all but `args`). */
const MANIFEST_CONFIG_FIELDS: ReadonlyArray<ConfigField> = ['mode', 'restart', 'watchdogMs', 'autostart', 'startOrder'];

/** The listed own fields of `x`, each checked, in a fresh plain object; a field set to undefined is left out. */
function pickConfig(x: Record<string, unknown>, fields: ReadonlyArray<ConfigField>): ModuleConfig | string {
  const has = (f: ConfigField): boolean => fields.includes(f) && Object.hasOwn(x, f) && x[f] !== undefined;
  const c: ModuleConfig = {};
  if (has('mode')) {
    if (!isExecutionMode(x.mode)) return MODE_PROBLEM;
    c.mode = x.mode;
  }
  if (has('restart')) {
    const restart = checkRestartPolicy(x.restart);
    if (typeof restart === 'string') return restart;
    c.restart = restart;
  }
  if (has('watchdogMs')) {
    const ms = checkWatchdogMs(x.watchdogMs);
    if (typeof ms === 'string') return ms;
    c.watchdogMs = ms;
  }
  if (has('autostart')) {
    if (typeof x.autostart !== 'boolean') return 'autostart must be true or false';
    c.autostart = x.autostart;
  }
  if (has('startOrder')) {
    const order = checkStartOrder(x.startOrder);
    if (typeof order === 'string') return order;
    c.startOrder = order;
  }
  if (has('args')) {
    if (!Array.isArray(x.args) || !x.args.every((a) => typeof a === 'string')) return 'args must be an array of strings';
    c.args = [...(x.args as string[])];
  }
  return c;
}

/**
 * A module's configuration as `kernel.configure` takes it: an object of the known fields only
 * (a misspelt one is an error, not ignored), each checked; or what is wrong with it.
 */
export function checkModuleConfig(x: unknown): ModuleConfig | string {
  if (!isRecord(x)) return 'the configuration must be an object such as { autostart: true }';
  const unknown = Object.keys(x).find((k) => !(MODULE_CONFIG_FIELDS as ReadonlyArray<string>).includes(k));
  if (unknown !== undefined) return `"${unknown}" is not a configuration field (${MODULE_CONFIG_FIELDS.join(', ')})`;
  return pickConfig(x, MODULE_CONFIG_FIELDS);
}

/** The configuration a manifest gives (`mode`, `restart`, `watchdogMs`, `autostart`, `startOrder`), checked; its other fields are not looked at. */
export function manifestConfig(manifest: Record<string, unknown>): ModuleConfig | string {
  return pickConfig(manifest, MANIFEST_CONFIG_FIELDS);
}
