/** The services every kernel starts unless told otherwise (one line each). */
import { busService } from '../bus';
import { gfxService } from '../gfx';
import type { Service } from './services';

export function standardServices(): Array<Service<unknown>> {
  return [busService(), gfxService()];
}
