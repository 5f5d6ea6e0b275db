/**
 * What every wire parser needs: refusing a message with `ipc/malformed` (naming the protocol,
 * never echoing the data), the versioned record check, and the usual field tests.
 */
import { KernelError } from '../common';

/** Throws `ipc/malformed` for a message of `protocol` that fails a check. */
export function malformed(protocol: string, why: string, data: unknown): never {
  throw new KernelError('ipc/malformed', `malformed ${protocol} message: ${why}`, {
    type: typeof data === 'object' && data !== null ? String((data as { type?: unknown }).type) : typeof data,
  });
}

/** The message as a record, if it is a plain object of protocol version `v`. */
export function versioned(protocol: string, v: number, data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) malformed(protocol, 'not an object', data);
  const r = data as Record<string, unknown>;
  if (r.v !== v) malformed(protocol, `unsupported version ${String(r.v)}`, data);
  return r;
}

export const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
export const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
