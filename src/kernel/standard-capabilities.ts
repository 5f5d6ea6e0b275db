/** The capabilities every kernel starts unless told otherwise (one line each). */
import { busService } from '../bus';
import type { KernelCapability } from '../capability';
import { gfxService } from '../gfx';

/** The bus and graphics. */
export function standardCapabilities(): Array<KernelCapability<unknown>> {
  return [busService(), gfxService()];
}
