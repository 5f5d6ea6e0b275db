/** The capabilities every kernel starts unless told otherwise (one line each). */
import { busService, openBroadcast } from '../bus';
import type { KernelCapability } from '../capability';
import { gfxService } from '../gfx';
import { kvService } from '../kv';
import { KvDb } from '../registry';

/** The bus, graphics and the key-value store (persisted beside the registry's database `dbName`). */
export function standardCapabilities(dbName = 'webmk'): Array<KernelCapability<unknown>> {
  return [busService(), gfxService(), kvService({ open: () => KvDb.open(`${dbName}-kv`), broadcast: (on) => openBroadcast('kv', on) })];
}
