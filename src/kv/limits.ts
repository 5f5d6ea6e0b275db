/** The store's limits and the checks every verb makes on its arguments, page or module alike. */
import { KernelError, isModuleName } from '../common';

/** A value: bytes, or text stored as text. */
export type KvValue = Uint8Array | string;

/** What the store refuses past. */
export const KV_LIMITS = {
  /** A key's UTF-8 bytes. */
  maxKey: 256,
  /** A value's bytes (text: its UTF-8 bytes). */
  maxValue: 1024 * 1024,
  /** Keys and values of one group together, bytes. */
  groupQuota: 16 * 1024 * 1024,
  /** Distinct changed keys a module's watch keeps per group before it reports the group as `*` (re-read it all). */
  maxPending: 1024,
} as const;

const enc = new TextEncoder();

/** A group is named like a module: letters, digits, `.`, `_`, `-`; at most 64. */
export function checkGroup(group: unknown): string {
  if (typeof group !== 'string' || !isModuleName(group)) {
    throw new KernelError('kv/invalid-name', `"${String(group)}" is not a group name (letters, digits, ".", "_", "-"; at most 64)`);
  }
  return group;
}

/** A key: 1..256 UTF-8 bytes, no line break or NUL (module answers list keys one a line). */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || /[\n\0]/.test(key)) {
    throw new KernelError('kv/invalid-name', 'a key is a non-empty string without line breaks or NUL');
  }
  const n = enc.encode(key).length;
  if (n > KV_LIMITS.maxKey) throw new KernelError('kv/too-large', `a key is at most ${KV_LIMITS.maxKey} bytes`, { size: n });
  return key;
}

/** A value to store, copied (the caller's buffer may change after). */
export function checkValue(value: unknown): KvValue {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new KernelError('kernel/bad-argument', 'a value is a string or a Uint8Array');
  const n = typeof value === 'string' ? enc.encode(value).length : value.length;
  if (n > KV_LIMITS.maxValue) throw new KernelError('kv/too-large', `a value is at most ${KV_LIMITS.maxValue} bytes`, { size: n });
  return typeof value === 'string' ? value : value.slice();
}

/** The expected value of a compare-and-set: absent (`undefined`), must be absent (`null`), or a value. */
export function checkExpect(expect: unknown): KvValue | null | undefined {
  if (expect === undefined || expect === null) return expect;
  return checkValue(expect);
}
