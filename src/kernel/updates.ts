/**
 * Updates under load (ADR 0023): when a newer version of a module is installed, processes
 * running the old one keep running on its bytes; supervised ones (`permanent`, `transient`) move
 * onto the new version under the same pid, at a moment when a restart loses nothing: a service
 * between two calls (services.ts does the switch), a command while it is parked in a bus receive
 * (a capability holds it there, so it takes no message it would not handle). A command that never
 * parks there moves when its incarnation next ends (the supervisor's restart runs the new version).
 */
import type { ModuleInfo } from '../common';
import { sleepUnthrottled } from '../ipc';
import type { Capabilities } from './capabilities';
import type { Lifecycle, Ready } from './lifecycle';
import type { Runnable } from './runnable';

/** How often a command waiting for its safe moment is looked at, ms. */
const LOOK_EVERY_MS = 10;

/** What updates need of the kernel. */
export interface UpdateDeps {
  /** Every process in the table. */
  processes(): Iterable<Lifecycle>;
  /** The runnable form of a module as installed now. */
  runnable(info: ModuleInfo): Promise<Runnable>;
  caps: Capabilities;
  /** A service's instance got a newer version: switch it now if idle, else after its current call. */
  serviceUpdated(name: string): void;
}

/** Moves the live supervised processes of the modules just installed onto their new versions. */
export async function moveOnto(installed: readonly ModuleInfo[], deps: UpdateDeps): Promise<void> {
  const byName = new Map(installed.map((m) => [m.name, m]));
  const moving: Array<Promise<void>> = [];
  for (const lc of deps.processes()) {
    const info = byName.get(lc.row.name);
    if (info === undefined || lc.row.state === 'exited' || lc.row.restart === 'temporary') continue;
    if (lc.latest.info.sha256 === info.sha256 || info.kind !== lc.ready.info.kind) continue;
    const next: Ready = { ...lc.ready, info, runnable: await deps.runnable(info) };
    lc.updateTo(next);
    if (lc.ready.serve !== undefined) deps.serviceUpdated(lc.row.name);
    // The fence lives in the page's bus arena, which only a worker's receive reads directly.
    else if (lc.ready.o.mode === 'worker') moving.push(whenParked(lc, deps.caps));
  }
  await Promise.all(moving);
}

/**
 * Switches a command once it is parked in a bus receive; gives up once it moved by itself (its
 * incarnation ended and the next runs the new version) or ended for good.
 */
async function whenParked(lc: Lifecycle, caps: Capabilities): Promise<void> {
  while (lc.updatePending && lc.row.state !== 'exited') {
    if (lc.row.state === 'running' && caps.hold(lc.row.pid)) {
      // Held still: the kill below is sent in this same task, before the reader can move.
      await lc.switchNow();
      return;
    }
    await sleepUnthrottled(LOOK_EVERY_MS);
  }
  // It moved by itself (its incarnation ended) or ended for good: nothing is to be held.
  if (lc.row.state !== 'exited') caps.release(lc.row.pid);
}
