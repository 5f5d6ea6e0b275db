/** Transactions: every failure becomes one KernelError and aborts the whole transaction. */
import type { IDBPTransaction, StoreNames } from 'idb';
import { KernelError } from '../common';
import type { RegistrySchema } from './db';

export { sha256Hex as digest } from './signature';

/**
 * Waits for a transaction's work and its commit. Any failure aborts the whole transaction (so
 * nothing is half-written) and becomes one KernelError; the commit's own error (a full disk is
 * reported at commit) wins over the AbortError the requests see.
 */
export async function settle(tx: IDBPTransaction<RegistrySchema, StoreNames<RegistrySchema>[], 'readwrite'>, work: Promise<void>, what: string): Promise<void> {
  const [w, d] = await Promise.allSettled([
    work.catch((e: unknown) => {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      throw e;
    }),
    tx.done,
  ]);
  if (w.status === 'rejected' && w.reason instanceof KernelError) throw w.reason;
  if (d.status === 'rejected') throw storageError(tx.error ?? d.reason, what);
  if (w.status === 'rejected') throw storageError(w.reason, what);
}

export function storageError(e: unknown, what: string): KernelError {
  if (e instanceof KernelError) return e;
  const name = e instanceof DOMException ? e.name : '';
  const message = e instanceof Error ? e.message : String(e);
  if (name === 'QuotaExceededError') {
    return new KernelError('registry/quota', `${what}: the browser's storage for this app is full`, { cause: message });
  }
  return new KernelError('registry/storage', `${what}: ${message}`, { cause: message, name });
}
