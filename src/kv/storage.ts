/** What the store needs of persistence (the registry's KvDb implements it; the kernel wires them). */
import type { KvValue } from './limits';

/** One group's totals. */
export interface KvGroupInfo {
  group: string;
  bytes: number;
  count: number;
}

/** Persistent groups of keys; every write is atomic. */
export interface KvStorage {
  get(group: string, key: string): Promise<KvValue | undefined>;
  /** Rejects with `kv/quota` past `quota`, `kv/conflict` when `expect` is given and not met. */
  set(group: string, key: string, value: KvValue, quota: number, expect?: KvValue | null): Promise<void>;
  delete(group: string, key: string): Promise<boolean>;
  keys(group: string): Promise<string[]>;
  groups(): Promise<KvGroupInfo[]>;
}

/** A channel to the other tabs of the app (the bus's `openBroadcast`). */
export interface KvBroadcast {
  post(data: unknown): void;
  close(): void;
}
