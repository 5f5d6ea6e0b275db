/**
 * Modules' watches: a module says which groups it watches, then pulls what changed with a
 * blocking call (`webmk_kv_next`). Nothing runs in the module while the store notifies, so a
 * module can never re-enter the store from inside a notification. Changed keys wait here, one
 * set per watched group, without repeats; past `KV_LIMITS.maxPending` a group's keys become `*`
 * (re-read the group).
 */
import { KV_LIMITS } from './limits';

/** The changes handed to a module: per group, the keys that changed (`*`: too many to list). */
export type KvChanges = Array<{ group: string; keys: string[] }>;

interface Watcher {
  pending: Map<string, Set<string>>;
  waiter: ((changes: KvChanges) => void) | undefined;
  /** Bytes the waiter can take (what is left stays pending). */
  room: number;
}

const enc = new TextEncoder();

/** The bytes a group's line costs a module: `group\tkey\n` per key. */
function lineBytes(group: string, key: string): number {
  return enc.encode(group).length + enc.encode(key).length + 2;
}

/** Every process's watches. */
export class ModuleWatchers {
  private readonly byPid = new Map<number, Watcher>();

  watch(pid: number, group: string): void {
    let w = this.byPid.get(pid);
    if (w === undefined) this.byPid.set(pid, (w = { pending: new Map(), waiter: undefined, room: 0 }));
    if (!w.pending.has(group)) w.pending.set(group, new Set());
  }

  unwatch(pid: number, group: string): void {
    this.byPid.get(pid)?.pending.delete(group);
  }

  /** Whether `pid` watches anything. */
  watching(pid: number): boolean {
    return (this.byPid.get(pid)?.pending.size ?? 0) > 0;
  }

  /** Keys of `group` changed: kept for each watcher of it; a waiting one is answered. */
  changed(group: string, keys: readonly string[]): void {
    for (const w of this.byPid.values()) {
      const set = w.pending.get(group);
      if (set === undefined) continue;
      for (const k of keys) set.add(k);
      if (set.size > KV_LIMITS.maxPending) {
        set.clear();
        set.add('*');
      }
      this.answer(w);
    }
  }

  /**
   * What changed for `pid`, at most `room` bytes of it as `group\tkey\n` lines; waits for a
   * change when nothing is pending, until `timeout` settles (then it answers nothing).
   */
  next(pid: number, room: number, timeout: Promise<void>): Promise<KvChanges> {
    const w = this.byPid.get(pid);
    if (w === undefined) return Promise.resolve([]);
    w.waiter?.([]);
    return new Promise((ok) => {
      w.waiter = ok;
      w.room = room;
      this.answer(w);
      void timeout.then(() => {
        if (w.waiter === ok) {
          w.waiter = undefined;
          ok([]);
        }
      });
    });
  }

  /** The process ended: its watches go, a wait in progress answers nothing. */
  drop(pid: number): void {
    this.byPid.get(pid)?.waiter?.([]);
    this.byPid.delete(pid);
  }

  /** Changes pending, per process (for resources). */
  count(): number {
    let n = 0;
    for (const w of this.byPid.values()) n += w.pending.size;
    return n;
  }

  private answer(w: Watcher): void {
    if (w.waiter === undefined) return;
    const out: KvChanges = [];
    let room = w.room;
    for (const [group, set] of w.pending) {
      const keys: string[] = [];
      for (const k of set) {
        const n = lineBytes(group, k);
        if (n > room) break;
        room -= n;
        keys.push(k);
      }
      for (const k of keys) set.delete(k);
      if (keys.length > 0) out.push({ group, keys });
    }
    if (out.length === 0) return;
    const ok = w.waiter;
    w.waiter = undefined;
    ok(out);
  }
}
