/** The providers of `webmk` imports, one per capability area. */
import { busImports } from '../../bus/guest';
import { gfxImports } from '../../gfx/guest';
import { kernelImports } from './kernel-imports';
import type { GuestProvider } from './guest';

export const providers: GuestProvider[] = [busImports, kernelImports, gfxImports];
