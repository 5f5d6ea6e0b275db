/**
 * Inbox space in a bus arena, for whoever opens subscriptions in it (the kernel's broker, or a
 * relay's local arena): a free list of blocks of the sizes given back, grown at the end.
 */
import { BusArena } from './mailbox';

/** Hands out and takes back inbox blocks of an arena. */
export class InboxSpace {
  private free: Array<{ offset: number; size: number }> = [];
  private end: number;

  constructor(private readonly arena: BusArena) {
    this.end = BusArena.inboxesStart;
  }

  /** The offset of a free block of `size` bytes, or -1 when the arena cannot grow that far. */
  take(size: number): number {
    const i = this.free.findIndex((b) => b.size === size);
    if (i >= 0) return this.free.splice(i, 1)[0]?.offset ?? -1;
    if (!this.arena.ensure(this.end + size)) return -1;
    const at = this.end;
    this.end += size;
    return at;
  }

  /** Gives a block back. */
  give(offset: number, size: number): void {
    this.free.push({ offset, size });
  }

  /** Bytes taken and not given back. */
  inUse(): number {
    return this.end - BusArena.inboxesStart - this.free.reduce((n, b) => n + b.size, 0);
  }
}
