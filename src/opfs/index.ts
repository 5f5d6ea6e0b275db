/**
 * The file server (ADR 0025): a worker that keeps modules' homes in OPFS with sync access handles
 * and serves each process's reads and writes through shared memory. Hosts load it by URL
 * (`worker-entry.ts`); nothing imports it.
 */
export type { SyncHandle } from './handles';
