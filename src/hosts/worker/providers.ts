/** The providers of `webmk` imports, one per capability area. */
import type { GuestProvider } from './guest';

export const providers: GuestProvider[] = [];
