/** What each execution mode lets the kernel give a process directly. */
import type { ExecutionMode } from './types';

/**
 * Whether a process in `mode` is in the kernel's agent cluster: it can be given shared memory
 * and transferred objects (a canvas). An `iframe` or `remote` process gets neither: everything
 * reaches it as copies in messages.
 */
export function sharesMemory(mode: ExecutionMode): boolean {
  return mode === 'worker' || mode === 'inpage';
}
