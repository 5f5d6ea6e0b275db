/**
 * Instance groups (ADR 0033): the service modules a process names to have instantiated in its
 * own worker, beside it, so that its imports from them are direct calls instead of calls to their
 * shared service instances. Named by the spawn (`inProcess`) or the manifest (`"inProcess"`).
 */
import { isModuleName } from './names';

/** Providers one process may link in-process (each is a wasm memory more in its renderer). */
export const MAX_IN_PROCESS = 8;

/** `x` checked as a list of provider names (duplicates dropped); a string says what is wrong. */
export function checkInProcess(x: unknown, where: string): string[] | string {
  if (!Array.isArray(x)) return `${where} must be an array of module names`;
  const names = [...new Set(x)];
  if (!names.every((n): n is string => typeof n === 'string' && isModuleName(n))) return `${where} must be an array of module names`;
  if (names.length > MAX_IN_PROCESS) return `${where} names more than ${MAX_IN_PROCESS} modules`;
  return names;
}
