/**
 * The policy that hibernates idle migratable processes to make room (ADR 0019, part of the
 * address-space wall of ADR 0012): before a spawn or a resume would pass a budget of live wasm
 * memories in its renderer (a configured `maxLive`, or the browser's limit once observed), the
 * least recently active migratable processes there are hibernated; input for one resumes it,
 * making room the same way. "Active" is approximated by when it last started or resumed.
 */
import { KernelError } from '../common';
import type { Lifecycle } from './lifecycle';
import { spaceOf, type AddressSpace, type MemorySlots } from './memory-slots';

/** `kernel.setAutoHibernate`: how many live memories a renderer may hold before idle processes are hibernated. */
export interface AutoHibernatePolicy {
  /** Live wasm memories per renderer (the page with its workers; the frames) to keep below. */
  maxLive?: number;
  /** Keep one below the browser's limit once a spawn has met it. */
  atWall?: boolean;
}

/** How long a process this policy hibernates may take to reach a safe point: an idle one is there already. */
const POLICY_DEADLINE_MS = 250;

/** Checks a policy from an untrusted caller (`null` turns the policy off). */
export function checkAutoHibernate(x: unknown): AutoHibernatePolicy | null {
  if (x === null) return null;
  if (typeof x !== 'object' || x === undefined) throw new KernelError('kernel/bad-argument', 'the policy is { maxLive?: number, atWall?: boolean } or null');
  const r = x as Record<string, unknown>;
  if (r.maxLive !== undefined && (typeof r.maxLive !== 'number' || !Number.isInteger(r.maxLive) || r.maxLive < 1)) {
    throw new KernelError('kernel/bad-argument', 'maxLive must be a positive integer');
  }
  if (r.atWall !== undefined && typeof r.atWall !== 'boolean') throw new KernelError('kernel/bad-argument', 'atWall must be a boolean');
  return { ...(r.maxLive !== undefined ? { maxLive: r.maxLive as number } : {}), ...(r.atWall !== undefined ? { atWall: r.atWall as boolean } : {}) };
}

export class AutoHibernate {
  private policy: AutoHibernatePolicy | null = null;
  /** When each process last started or resumed (ms): the least recent goes first. */
  private readonly active = new Map<number, number>();

  constructor(
    private readonly deps: {
      processes(): Iterable<Lifecycle>;
      slots: MemorySlots;
      hibernate(lc: Lifecycle, opts: { deadlineMs: number; orRestart: boolean }): Promise<void>;
    },
  ) {}

  set(policy: AutoHibernatePolicy | null): void {
    this.policy = policy;
  }

  get(): AutoHibernatePolicy | null {
    return this.policy === null ? null : { ...this.policy };
  }

  /** A process changed state: remember when it last came to run. */
  seen(pid: number, state: string): void {
    if (state === 'running') this.active.set(pid, performance.now());
    else if (state === 'exited') this.active.delete(pid);
  }

  /** Hibernates least recently active migratable processes of `space` until `n` more memories fit; best effort. */
  async makeRoom(space: AddressSpace | undefined, n: number, except?: number): Promise<void> {
    const p = this.policy;
    if (p === null || space === undefined) return;
    const { used, limit } = this.deps.slots.snapshot()[space];
    const budget = Math.min(p.maxLive ?? Infinity, p.atWall === true && limit !== undefined ? limit - 1 : Infinity);
    let excess = used + n - budget;
    if (excess <= 0) return;
    const candidates = [...this.deps.processes()]
      .filter((lc) => lc.row.pid !== except && lc.row.state === 'running' && lc.migration.parkable && spaceOf(lc.row.mode) === space)
      .sort((a, b) => (this.active.get(a.row.pid) ?? 0) - (this.active.get(b.row.pid) ?? 0));
    for (const lc of candidates) {
      if (excess <= 0) return;
      if (lc.row.state !== 'running') continue;
      try {
        await this.deps.hibernate(lc, { deadlineMs: POLICY_DEADLINE_MS, orRestart: false });
        excess -= 1;
      } catch {
        // Busy or refused: the next one.
      }
    }
  }
}
