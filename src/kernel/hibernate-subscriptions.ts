/**
 * A hibernated process's bus subscriptions across a reload of the page (ADR 0028): the bus it
 * subscribed in is gone with the page, so the kernel that brings it back opens them anew (its
 * grants checked again) and points the snapshot's kept subscriptions at the new slots, so that
 * messages published after the reload queue for it and wake it.
 */
import { topicAllowed, type ModuleInfo } from '../common';
import type { BusApi } from '../bus';
import { parseSnapshot } from '../ipc';
import type { HibernatedRecord, SnapshotStore } from '../registry';

/** The bus provider's part of a snapshot (process/capabilities/bus.ts): its subscription ids and their slots. */
interface KeptBus {
  nextSub: number;
  subs: Array<[number, number, number]>;
}

/** Opens the subscriptions of a process brought back hibernated; rewrites its stored snapshot when any moved. */
export async function reopenSubscriptions(store: SnapshotStore, rec: HibernatedRecord, info: ModuleInfo, bus: BusApi | undefined): Promise<void> {
  const held = rec.subscriptions ?? [];
  if (held.length === 0 || bus === undefined) return;
  const moved = new Map<number, { slot: number; gen: number }>();
  const kept: Array<{ slot: number; pattern: string }> = [];
  for (const { slot, pattern } of held) {
    // Grants withdrawn since: that subscription is not opened (its receives answer -EBADF).
    if (!topicAllowed(info.grants.subscribe, pattern)) continue;
    try {
      const now = bus.reopen(rec.pid, pattern, rec.incarnation);
      moved.set(slot, now);
      kept.push({ slot: now.slot, pattern });
    } catch {
      // No room in this bus: as above.
    }
  }
  const snap = parseSnapshot(await store.snapshot(rec.pid));
  const old = snap.providers.bus as Partial<KeptBus> | undefined;
  if (old === undefined || !Array.isArray(old.subs)) return;
  const subs = old.subs.flatMap(([id, slot]): Array<[number, number, number]> => {
    const now = moved.get(slot);
    return now === undefined ? [] : [[id, now.slot, now.gen]];
  });
  await store.put({ ...rec, subscriptions: kept }, { ...snap, providers: { ...snap.providers, bus: { ...old, subs } } });
}
