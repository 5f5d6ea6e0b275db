/**
 * The key-value store on the page (pntOS's registry): groups of keys, persistent, with change
 * notifications to the page, to modules and to the other tabs of the app. The page is trusted;
 * a module reads a group with `kv:read:<group>` and changes it with `kv:write:<group>`.
 *
 * A page watcher's callback runs while the store is "notifying": a verb called synchronously
 * from inside it is refused with `kv/reentrant` (pntOS's rule: a notification never re-enters
 * the store). What the callback defers (a microtask, an await) runs after, and is allowed.
 */
import type { CapabilityHost, KernelCapability } from '../capability';
import { KernelError } from '../common';
import { registerKvCalls } from './calls';
import { KV_LIMITS, checkExpect, checkGroup, checkKey, checkValue, type KvValue } from './limits';
import type { KvBroadcast, KvGroupInfo, KvStorage } from './storage';
import { ModuleWatchers } from './watchers';

/** How the store is set up: where it persists and how it reaches other tabs. */
export interface KvOptions {
  open(): Promise<KvStorage>;
  broadcast(onMessage: (data: unknown) => void): KvBroadcast;
}

/** A page watcher: the keys of `group` that changed (`*`: the group may have changed whole). */
export type KvWatcher = (keys: string[], group: string) => void;

/** `kernel.kv`: the store from the page (trusted: every group). */
export interface KvApi {
  /** The value under `key`, or undefined. Rejects with `kv/invalid-name`, `kv/too-large`, `kernel/storage`. */
  get(group: string, key: string): Promise<KvValue | undefined>;
  /**
   * Stores `value` (whole, or not at all); with `expect`, only if the stored value is `expect`
   * (null: only if absent), else `kv/conflict`. Settles once committed; watchers are told then.
   * Rejects with `kv/invalid-name`, `kv/too-large`, `kv/quota`, `kv/conflict`, `kv/reentrant`.
   */
  set(group: string, key: string, value: KvValue, opts?: { expect?: KvValue | null }): Promise<void>;
  /** Removes `key`; resolves true when it was there. */
  delete(group: string, key: string): Promise<boolean>;
  /** The keys of `group`, sorted. */
  keys(group: string): Promise<string[]>;
  /** Every group that holds keys, with its bytes and count. */
  groups(): Promise<KvGroupInfo[]>;
  /** Calls `cb` after each change to `group` (`*`: every group), here or in another tab; returns the unwatch. */
  watch(group: string, cb: KvWatcher): () => void;
}

/** The store as a capability: `kernel.kv`, its guest calls, and its notifications. */
export function kvService(opts: KvOptions): KernelCapability<KvApi> {
  return { name: 'kv', start: (host) => new Kv(host, opts) };
}

class Kv implements KvApi {
  private readonly storage: Promise<KvStorage>;
  private readonly pageWatchers = new Map<string, Set<KvWatcher>>();
  readonly modules = new ModuleWatchers();
  private readonly channel: KvBroadcast;
  private readonly tab = crypto.randomUUID();
  private notifying = 0;

  constructor(host: CapabilityHost, opts: KvOptions) {
    this.storage = opts.open();
    this.storage.catch(() => {}); // each verb reports it
    this.channel = opts.broadcast((msg) => this.fromOtherTab(msg));
    registerKvCalls(host, this);
    host.onEnd((p) => this.modules.drop(p.pid));
    host.resources('kv', () => ({ pageWatchers: [...this.pageWatchers.values()].reduce((n, s) => n + s.size, 0), moduleWatches: this.modules.count() }));
  }

  private async db(): Promise<KvStorage> {
    if (this.notifying > 0) throw new KernelError('kv/reentrant', 'a watcher may not call the store from inside its notification; defer the call');
    try {
      return await this.storage;
    } catch (e) {
      throw new KernelError('kernel/storage', `the key-value store could not open: ${String(e)}`);
    }
  }

  async get(group: string, key: string): Promise<KvValue | undefined> {
    const db = await this.db();
    return db.get(checkGroup(group), checkKey(key));
  }

  async set(group: string, key: string, value: KvValue, opts: { expect?: KvValue | null } = {}): Promise<void> {
    const db = await this.db();
    const g = checkGroup(group);
    const k = checkKey(key);
    await db.set(g, k, checkValue(value), KV_LIMITS.groupQuota, checkExpect(opts.expect));
    this.changed(g, [k], true);
  }

  async delete(group: string, key: string): Promise<boolean> {
    const db = await this.db();
    const g = checkGroup(group);
    const k = checkKey(key);
    const was = await db.delete(g, k);
    if (was) this.changed(g, [k], true);
    return was;
  }

  async keys(group: string): Promise<string[]> {
    const db = await this.db();
    return db.keys(checkGroup(group));
  }

  async groups(): Promise<KvGroupInfo[]> {
    const db = await this.db();
    return db.groups();
  }

  watch(group: string, cb: KvWatcher): () => void {
    if (group !== '*') checkGroup(group);
    if (typeof cb !== 'function') throw new KernelError('kernel/bad-argument', 'watch takes a callback');
    let set = this.pageWatchers.get(group);
    if (set === undefined) this.pageWatchers.set(group, (set = new Set()));
    // A watcher added twice is called twice: each registration is its own.
    const mine: KvWatcher = (keys, g) => cb(keys, g);
    set.add(mine);
    return () => void set.delete(mine);
  }

  /** Keys of `group` changed (committed): tell the page's watchers, modules', and, if it happened here, other tabs. */
  private changed(group: string, keys: string[], here: boolean): void {
    if (here) this.channel.post({ type: 'changed', tab: this.tab, group, keys });
    this.modules.changed(group, keys);
    const called = [...(this.pageWatchers.get(group) ?? []), ...(this.pageWatchers.get('*') ?? [])];
    for (const cb of called) {
      this.notifying++;
      try {
        cb([...keys], group);
      } catch (e) {
        reportError(e);
      } finally {
        this.notifying--;
      }
    }
  }

  private fromOtherTab(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { type?: unknown; tab?: unknown; group?: unknown; keys?: unknown };
    if (m.type !== 'changed' || m.tab === this.tab || typeof m.group !== 'string' || !Array.isArray(m.keys)) return;
    try {
      const group = checkGroup(m.group);
      const keys = m.keys.slice(0, KV_LIMITS.maxPending).map((k) => checkKey(k));
      this.changed(group, keys, false);
    } catch {
      // Another tab of an older or broken version: nothing here to tell.
    }
  }
}
