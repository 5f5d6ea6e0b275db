/**
 * Asking the person before another device runs anything here (issue 13, ADR 0021): a spawn that
 * comes over a device link waits for an answer (once, always for this device and module, deny);
 * no answer in time is a refusal. Tabs of this browser are the same person and run unasked
 * (ADR 0020). "Always" is kept in the devices database and goes when the device is forgotten.
 */
import { KernelError } from '../common';
import { allowAlways, loadAllowed, type Link } from '../remote';

/** How long a request waits for the person before it is refused, ms. */
export const REMOTE_ASK_MS = 60_000;

/** A device's request to run a module here, waiting for an answer. */
export interface RemoteRequest {
  /** Names this request in `answerRemote`. */
  id: number;
  /** The device's node id (its peer id). */
  node: string;
  /** The device's name for people. */
  nodeName: string;
  /** The module it asks to run. */
  module: string;
  /** Set when the module is not installed here: the device sent its package (this many bytes), to be installed first. */
  install?: { bytes: number };
  /** When it asked (ms since the epoch); refused unanswered at `at + REMOTE_ASK_MS`. */
  at: number;
}

/** The person's answer: run it this once, always for this device and module, or not. */
export type RemoteAnswer = 'once' | 'always' | 'deny';

interface Waiting extends RemoteRequest {
  settle(answer: RemoteAnswer | 'timeout' | 'gone'): void;
}

/** The requests waiting on this node; the kernel owns one. */
export class RemoteRequests {
  private readonly waiting = new Map<number, Waiting>();
  private next = 1;
  /** Yeses given at a lookup, each letting one spawn of that module over that link through. */
  private readonly passes = new WeakMap<Link, string[]>();

  constructor(
    /** A request came or went (the kernel emits `remoterequest`). */
    private readonly changed: () => void,
    private readonly askMs = REMOTE_ASK_MS,
  ) {}

  /**
   * Resolves if the other end of `link` may run `module` here; rejects `remote/refused`. A yes
   * at the lookup lets the spawn that follows through; a spawn without one asks (a peer may skip
   * the lookup).
   */
  async admit(link: Link, module: string, at: 'lookup' | 'spawn' | 'install', bytes?: number): Promise<void> {
    if (link.kind === 'tab') return;
    const passes = this.passes.get(link) ?? [];
    if (at === 'spawn' && passes.includes(module)) {
      passes.splice(passes.indexOf(module), 1);
      return;
    }
    // "Always" allows running a module installed here, not installing one: that is asked each time.
    const allowed: string[] = at === 'install' ? [] : await loadAllowed(link.peer).catch(() => []);
    if (allowed.includes(module)) return;
    const name = link.name ?? link.peer;
    const answer = await new Promise<RemoteAnswer | 'timeout' | 'gone'>((resolve) => {
      const id = this.next++;
      const timer = setTimeout(() => w.settle('timeout'), this.askMs);
      const w: Waiting = {
        id,
        node: link.peer,
        nodeName: name,
        module,
        at: Date.now(),
        ...(at === 'install' ? { install: { bytes: bytes ?? 0 } } : {}),
        settle: (a) => {
          if (!this.waiting.delete(id)) return;
          clearTimeout(timer);
          this.changed();
          resolve(a);
        },
      };
      this.waiting.set(id, w);
      // Nobody is left to run it for: the question goes away with the link.
      void link.ended.then(() => w.settle('gone'));
      this.changed();
    });
    if (answer === 'always') await allowAlways(link.peer, module).catch(() => {});
    if (answer === 'once' || answer === 'always') {
      if (at !== 'spawn' && answer === 'once') this.passes.set(link, [...passes, module]);
      return;
    }
    const why = answer === 'timeout' ? 'was not answered in time' : answer === 'gone' ? 'ended with the link' : 'was denied';
    throw new KernelError('remote/refused', `running "${module}" on device ${name} ${why}`, { module, answer });
  }

  /** The requests waiting, oldest first. */
  list(): RemoteRequest[] {
    return [...this.waiting.values()].map(({ id, node, nodeName, module, at, install }) => ({ id, node, nodeName, module, at, ...(install !== undefined ? { install: { ...install } } : {}) }));
  }

  /** Answers request `id`; throws `kernel/bad-argument` if none waits with that id. */
  answer(id: number, answer: RemoteAnswer): void {
    const w = this.waiting.get(id);
    if (w === undefined) throw new KernelError('kernel/bad-argument', `no remote request ${id} is waiting`, { id });
    if (answer !== 'once' && answer !== 'always' && answer !== 'deny') throw new KernelError('kernel/bad-argument', 'the answer is "once", "always" or "deny"', { answer });
    w.settle(answer);
  }
}
