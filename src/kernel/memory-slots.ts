/**
 * The address-space wall (FACTS.md): V8 reserves about 8 GiB of address space per wasm32 memory
 * from a budget of about 1 TiB per renderer process, so one renderer holds about 125 live
 * memories whatever their size. The page and its workers share one renderer; the sandboxed
 * frames of the `iframe` mode share another. The kernel counts the memories its processes hold
 * in each, learns the limit the first time an instantiation is refused, and from then on refuses
 * a spawn at the limit at once (`kernel/no-memory-slot`) instead of letting it fail later.
 */
import type { ExecutionMode } from '../common';
import type { Runnable } from './runnable';

/** A renderer whose address space the processes share: the page (workers, in-page) or the frames. */
export type AddressSpace = 'page' | 'frames';

export interface SlotUse {
  /** Live wasm memories held by processes in this renderer. */
  used: number;
  /** The count at which the browser refused one, once seen (absent: not met yet). */
  limit?: number;
}

/** How long the browser may take to let an ended worker's wasm memory go, ms (a second or two when idle, more under load). */
const FREEING_MS = 10_000;


/** Where a process of this mode holds its memory (none here for a remote one). */
export function spaceOf(mode: ExecutionMode): AddressSpace | undefined {
  if (mode === 'remote') return undefined;
  return mode === 'iframe' ? 'frames' : 'page';
}

/** Where a start of `runnable` in `mode` takes a slot: a wasm module does, a JS module none. */
export function slotOf(runnable: Runnable, mode: ExecutionMode): AddressSpace | undefined {
  return runnable !== 'min-exceeds' && runnable.kind === 'wasm' ? spaceOf(mode) : undefined;
}

export { isWall } from '../common';

export class MemorySlots {
  private readonly use: Record<AddressSpace, SlotUse> = { page: { used: 0 }, frames: { used: 0 } };
  /** Of `used`, the memories known to exist (their process runs); the rest are still starting. */
  private readonly live: Record<AddressSpace, number> = { page: 0, frames: 0 };
  /** When live memories were given back, in the last FREEING_MS (oldest first). */
  private readonly freed: Record<AddressSpace, number[]> = { page: [], frames: [] };

  /** `now` is the clock, in ms (a parameter for tests). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A copy of the counts. */
  snapshot(): Record<AddressSpace, SlotUse> {
    return { page: { ...this.use.page }, frames: { ...this.use.frames } };
  }

  /**
   * Why `n` new memories in `space` would be refused now, or undefined if they may be tried (a
   * process holds more than one when providers are instantiated beside it: ADR 0033).
   */
  refusal(space: AddressSpace, n = 1): string | undefined {
    const { used, limit } = this.use[space];
    if (limit === undefined || used + n <= limit) return undefined;
    return wallMessage(space, used, limit);
  }

  take(space: AddressSpace, n = 1): void {
    this.use[space].used += n;
  }

  /** A process holding `n` slots got its memories: the renderer holds at least this many at once. */
  instantiated(space: AddressSpace, n = 1): void {
    this.live[space] += n;
    const s = this.use[space];
    if (s.limit !== undefined) s.limit = Math.max(s.limit, this.live[space]);
  }

  /** A process gave its `n` slots back (`live`: it had got its memories). */
  release(space: AddressSpace, live: boolean, n = 1): void {
    this.use[space].used = Math.max(0, this.use[space].used - n);
    if (!live) return;
    this.live[space] = Math.max(0, this.live[space] - n);
    for (let i = 0; i < n; i++) this.freed[space].push(this.now());
    this.recentlyFreed(space);
  }

  /**
   * An instantiation in `space` was refused. The limit learned is the most memories seen live at
   * once, plus those given back in the last seconds: the browser lets a terminated worker's
   * memory go a little later, so a refusal right after many processes ended says little about
   * the limit (counting them errs high: a spawn past the real limit is tried and refused by the
   * browser, never refused by the kernel while there is room). Not those still starting (they may
   * be refused too, when many start together), and never lowered.
   */
  met(space: AddressSpace): string {
    const s = this.use[space];
    s.limit = Math.max(s.limit ?? 0, this.live[space] + this.recentlyFreed(space));
    return wallMessage(space, this.live[space], s.limit);
  }

  /** Memories given back in the last FREEING_MS (and forgets older ones). */
  private recentlyFreed(space: AddressSpace): number {
    const times = this.freed[space];
    const since = this.now() - FREEING_MS;
    let old = 0;
    while (old < times.length && (times[old] ?? 0) < since) old++;
    times.splice(0, old);
    return times.length;
  }
}

function wallMessage(space: AddressSpace, used: number, limit: number): string {
  const where = space === 'page' ? 'this page and its workers' : 'the sandboxed frames';
  return (
    `no wasm memory slot: ${where} hold ${used} live wasm memories and the browser refused one more ` +
    `(its limit for one renderer, observed at ${limit}); ending or hibernating a process frees one`
  );
}
