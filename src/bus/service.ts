/**
 * The bus on the page: the broker. It owns the shared arena, opens and closes subscriptions
 * (checking grants), gives page scripts `kernel.bus`, forwards global topics to other tabs, and
 * keeps what the shell's bus view shows. Publishing itself never passes through here.
 */
import type { CapabilityHost, KernelCapability } from '../capability';
import { KernelError, isTopic, topicAllowed, topicMatches } from '../common';
import { BUS_LIMITS, BusArena, InboxSpace, REMOTE_PID, allocateBusArena, frameSize, sharedMemoryAvailable, type Frame } from '../ipc';
import { openBroadcast, type Broadcast } from './broadcast';
import { TopicMonitor, type TopicStats } from './monitor';

/** Options of the bus service. */
export interface BusOptions {
  /** Inbox bytes per subscription (default 1 MiB: at least 1,024 messages of 1 KiB). */
  inboxBytes?: number;
}

/** A subscription as the bus view shows it. */
export interface SubscriptionInfo {
  pid: number;
  name: string;
  pattern: string;
  queued: number;
  delivered: number;
  dropped: number;
  capacity: number;
}

/** What the bus view shows. */
export interface BusStats {
  subscriptions: SubscriptionInfo[];
  /** Topics seen while watching: publishers, rates, last messages. */
  topics: TopicStats[];
  globals: string[];
  watching: boolean;
}

/** `kernel.bus`: publish and subscribe from the page (trusted: no grants needed). */
export interface BusApi {
  /** Publishes to every current subscriber; throws `bus/invalid-topic` or `bus/too-large`. */
  publish(topic: string, data: Uint8Array | string): void;
  /** Subscribes to an exact topic or a `prefix/*` pattern; returns the unsubscribe function. */
  subscribe(topic: string, onMessage: (data: Uint8Array, topic: string) => void, opts?: { queueBytes?: number }): () => void;
  /** Declares topics matching `pattern` global: they reach this app's modules in other tabs too. */
  declareGlobal(pattern: string): void;
  stats(): BusStats;
  /** Starts or stops recording topics, publishers, rates and last messages (the bus view). */
  watch(on: boolean): void;
  /** The subscriptions a process holds, by slot (what a hibernated process's record keeps, ADR 0028). */
  held(pid: number): Array<{ slot: number; pattern: string }>;
  /**
   * Opens anew, for a process brought back hibernated after a reload, its subscription to
   * `pattern` (its grants checked by the caller): messages queue there until it resumes.
   */
  reopen(pid: number, pattern: string, incarnation: number): { slot: number; gen: number };
}

const PAGE_PID = 0;
/** How long the page drains one subscription before it lets other tasks run. */
const DRAIN_BUDGET_MS = 4;

/**
 * Resolves in a later task, so timers, input and rendering get their turn. Not
 * `scheduler.yield()`: its continuation runs ahead of other tasks, so a flood would still starve
 * the page.
 */
function yieldToPage(): Promise<void> {
  return new Promise((ok) => setTimeout(ok, 0));
}
const enc = new TextEncoder();

interface Sub {
  slot: number;
  gen: number;
  owner: number;
  pattern: string;
  offset: number;
  capacity: number;
  /**
   * The incarnation of the owner that holds it; 0 while it waits, kept across a restart, for the
   * owner's next incarnation to subscribe to the same pattern (messages meanwhile queue in it).
   */
  holder: number;
}

export function busService(opts: BusOptions = {}): KernelCapability<BusApi> {
  return { name: 'bus', start: (host) => (sharedMemoryAvailable() ? new Bus(host, opts) : unavailable()) };
}

/** The bus of a page that is not cross-origin isolated: no shared memory, so no bus. */
function unavailable(): BusApi {
  const refuse = (): never => {
    throw new KernelError('kernel/not-isolated', 'the bus needs a cross-origin isolated page (SharedArrayBuffer)');
  };
  return {
    publish: refuse,
    subscribe: refuse,
    declareGlobal: refuse,
    watch: () => {},
    stats: () => ({ subscriptions: [], topics: [], globals: [], watching: false }),
    held: () => [],
    reopen: refuse,
  };
}

class Bus implements BusApi {
  private readonly arena = new BusArena(allocateBusArena());
  private readonly space = new InboxSpace(this.arena);
  private readonly subs = new Map<number, Sub>();
  private readonly globals = new Set<string>();
  private readonly forwarders = new Map<string, () => void>();
  private readonly tab = crypto.randomUUID();
  private readonly monitor = new TopicMonitor();
  private stopWatch: (() => void) | null = null;
  private broadcast: Broadcast | null = null;
  private readonly inboxBytes: number;
  /** Whether a lock holder still runs (a killed process's glue may have died holding one). */
  private readonly alive = (pid: number): boolean => {
    const state = this.host.process(pid)?.state;
    return state === 'starting' || state === 'running';
  };

  constructor(private readonly host: CapabilityHost, opts: BusOptions) {
    this.inboxBytes = opts.inboxBytes ?? BUS_LIMITS.inboxBytes;
    host.share('bus', this.arena.sab);
    host.calls.handle('bus.subscribe', (caller, args) => {
      const pattern = (args as { pattern?: unknown } | null)?.pattern;
      if (typeof pattern !== 'string' || !isTopic(pattern, true)) throw new KernelError('bus/invalid-topic', 'not a valid topic pattern');
      if (!topicAllowed(caller.grants.subscribe, pattern)) {
        host.denied(caller, `subscribe:${pattern}`);
        throw new KernelError('bus/denied', `"${caller.name}" may not subscribe to "${pattern}"`);
      }
      const sub = this.reattach(caller.pid, pattern) ?? this.open(pattern, caller.pid, this.inboxBytes, BUS_LIMITS.maxPerProcess);
      sub.holder = caller.incarnation;
      return { value: { slot: sub.slot, gen: sub.gen } };
    });
    host.calls.handle('bus.unsubscribe', (caller, args) => {
      const slot = (args as { slot?: unknown } | null)?.slot;
      const sub = typeof slot === 'number' ? this.subs.get(slot) : undefined;
      if (sub === undefined || sub.owner !== caller.pid) throw new KernelError('bus/invalid-topic', 'no such subscription');
      this.close(sub);
      return { value: null };
    });
    // A process whose realm cannot share the arena (the iframe mode) publishes through here.
    host.calls.handle('bus.publish', (caller, args) => {
      const a = args as { topic?: unknown; data?: unknown } | null;
      if (typeof a?.topic !== 'string' || !isTopic(a.topic) || !(a.data instanceof Uint8Array)) {
        throw new KernelError('bus/invalid-topic', 'bus.publish takes a topic and bytes');
      }
      if (a.data.length > BUS_LIMITS.maxMessage) throw new KernelError('bus/too-large', `a message is at most ${BUS_LIMITS.maxMessage} bytes`);
      if (!topicAllowed(caller.grants.publish, a.topic)) {
        host.denied(caller, `publish:${a.topic}`);
        throw new KernelError('bus/denied', `"${caller.name}" may not publish to "${a.topic}"`);
      }
      this.arena.publish(a.topic, a.data, caller.pid, false, this.alive);
      return { value: null };
    });
    // The glue refuses in the module's realm and says so here. Module code may say so too: only a
    // refusal the caller's grants bear out is logged, so the log holds attempts that were made.
    host.calls.handle('bus.denied', (caller, args) => {
      const a = args as { action?: unknown; topic?: unknown } | null;
      const action = a?.action === 'publish' || a?.action === 'subscribe' ? a.action : undefined;
      const topic = typeof a?.topic === 'string' && isTopic(a.topic, action === 'subscribe') ? a.topic : undefined;
      if (action !== undefined && topic !== undefined && !topicAllowed(caller.grants[action], topic)) host.denied(caller, `${action}:${topic}`);
      return { value: null };
    });
    host.onEnd((p, final) => {
      this.arena.releaseLocks(p.pid);
      for (const sub of [...this.subs.values()]) {
        if (sub.owner !== p.pid) continue;
        // Kept for the next incarnation only if the one that just ended held it.
        if (final || sub.holder === 0) this.close(sub);
        else {
          sub.holder = 0;
          this.arena.unfence(sub.slot, true);
        }
      }
    });
    // A process parked in a receive holds no message: fenced there, it can be ended and
    // restarted (an update) with every message since still queued for its next incarnation. One
    // busy with a message keeps the fence: it takes no other, and parks at its next receive.
    host.onHold(
      (pid) => {
        const mine = [...this.subs.values()].filter((sub) => sub.owner === pid && sub.holder !== 0);
        if (mine.length === 0) return 'none';
        let parked = false;
        for (const sub of mine) if (this.arena.fence(sub.slot)) parked = true;
        return parked ? 'held' : 'busy';
      },
      (pid) => {
        for (const sub of this.subs.values()) if (sub.owner === pid) this.arena.unfence(sub.slot, false);
      },
    );
    // A module may declare global topics in its manifest: `"globalTopics": ["chat/*"]`.
    host.onSpawn((_pid, info) => {
      const declared = info.manifest.globalTopics;
      if (!Array.isArray(declared)) return;
      for (const pattern of declared) if (typeof pattern === 'string' && isTopic(pattern, true)) this.declareGlobal(pattern);
    });
    host.resources('bus', () => ({
      subscriptions: this.subs.size,
      // Read from the shared arena itself: a slot closed here but not there would show.
      arenaSlots: this.arena.stats().length,
      inboxBytes: this.space.inUse(),
      globalTopics: this.forwarders.size,
    }));
    // Learn the global topics other tabs declared.
    this.channel().post({ type: 'hello', tab: this.tab });
  }

  /** A subscription the owner's previous incarnation held on `pattern`, kept for this one. */
  private reattach(owner: number, pattern: string): Sub | undefined {
    for (const sub of this.subs.values()) if (sub.owner === owner && sub.holder === 0 && sub.pattern === pattern) return sub;
    return undefined;
  }

  /** A new subscription of `owner`, refused past `most` of its own (`bus/too-large`: no room). */
  private open(pattern: string, owner: number, bytes: number, most = Infinity): Sub {
    let held = 0;
    for (const s of this.subs.values()) if (s.owner === owner) held++;
    if (held >= most) throw new KernelError('bus/too-large', `a process holds at most ${most} subscriptions at once`, { held });
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(bytes, frameSize(BUS_LIMITS.maxTopic, BUS_LIMITS.maxMessage))));
    const offset = this.space.take(capacity);
    const slot = offset < 0 ? -1 : this.arena.open(pattern, owner, offset, capacity);
    if (slot < 0) {
      if (offset >= 0) this.space.give(offset, capacity);
      throw new KernelError('bus/too-large', 'no room for another subscription');
    }
    const sub: Sub = { slot, gen: this.arena.generation(slot), owner, pattern, offset, capacity, holder: 1 };
    this.subs.set(slot, sub);
    this.host.emit('bus');
    return sub;
  }

  private close(sub: Sub): void {
    if (this.subs.get(sub.slot) !== sub) return;
    this.subs.delete(sub.slot);
    this.arena.close(sub.slot, this.alive);
    this.space.give(sub.offset, sub.capacity);
    this.host.emit('bus');
  }

  publish(topic: string, data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? enc.encode(data) : data;
    if (typeof topic !== 'string' || !isTopic(topic)) throw new KernelError('bus/invalid-topic', `"${String(topic)}" is not a valid topic`);
    if (!(bytes instanceof Uint8Array)) throw new KernelError('kernel/bad-argument', 'data must be a Uint8Array or a string');
    if (bytes.length > BUS_LIMITS.maxMessage) {
      throw new KernelError('bus/too-large', `a message is at most ${BUS_LIMITS.maxMessage} bytes`, { size: bytes.length });
    }
    this.arena.publish(topic, bytes, PAGE_PID, false, this.alive);
  }

  subscribe(topic: string, onMessage: (data: Uint8Array, topic: string) => void, opts: { queueBytes?: number } = {}): () => void {
    if (typeof topic !== 'string' || !isTopic(topic, true)) throw new KernelError('bus/invalid-topic', `"${String(topic)}" is not a valid topic pattern`);
    if (typeof onMessage !== 'function') throw new KernelError('kernel/bad-argument', 'onMessage must be a function');
    return this.listen(topic, opts.queueBytes ?? this.inboxBytes, (f) => onMessage(f.data, f.topic));
  }

  /** A page subscription drained on the page's event loop (never blocking it). */
  private listen(pattern: string, bytes: number, deliver: (f: Frame) => void): () => void {
    const sub = this.open(pattern, PAGE_PID, bytes);
    let open = true;
    void (async () => {
      while (open && this.arena.isOpen(sub.slot, sub.gen)) {
        const seen = this.arena.doorbell(sub.slot);
        // A publisher can refill the inbox as fast as the page drains it: take a bounded batch,
        // then let the page's other tasks run before the next one.
        const until = performance.now() + DRAIN_BUDGET_MS;
        let frame: Frame | null = null;
        while (open && performance.now() < until && (frame = this.arena.takeFrame(sub.slot)) !== null) {
          try {
            deliver(frame);
          } catch (e) {
            reportError(e);
          }
        }
        if (!open) break;
        if (frame !== null) await yieldToPage();
        else await this.arena.waitDoorbellAsync(sub.slot, seen);
      }
    })();
    return () => {
      open = false;
      this.close(sub);
    };
  }

  declareGlobal(pattern: string): void {
    if (typeof pattern !== 'string' || !isTopic(pattern, true)) throw new KernelError('bus/invalid-topic', `"${String(pattern)}" is not a valid topic pattern`);
    if (this.globals.has(pattern)) return;
    this.globals.add(pattern);
    const channel = this.channel();
    channel.post({ type: 'declare', tab: this.tab, pattern });
    // Forward what is published here on the pattern; what came from other tabs stays here.
    this.forwarders.set(
      pattern,
      this.listen(pattern, this.inboxBytes, (f) => {
        if (f.pid !== REMOTE_PID) channel.post({ type: 'message', tab: this.tab, topic: f.topic, data: f.data });
      }),
    );
    this.host.emit('bus');
  }

  private channel(): Broadcast {
    this.broadcast ??= openBroadcast('bus', (msg) => this.fromOtherTab(msg));
    return this.broadcast;
  }

  private fromOtherTab(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { type?: unknown; tab?: unknown; topic?: unknown; data?: unknown; pattern?: unknown };
    if (m.tab === this.tab) return;
    if (m.type === 'message' && typeof m.topic === 'string' && isTopic(m.topic) && m.data instanceof Uint8Array && m.data.length <= BUS_LIMITS.maxMessage) {
      if ([...this.globals].some((g) => topicMatches(g, m.topic as string))) {
        this.arena.publish(m.topic, m.data, REMOTE_PID, false, this.alive);
      }
    } else if (m.type === 'declare' && typeof m.pattern === 'string' && isTopic(m.pattern, true)) {
      this.declareGlobal(m.pattern);
    } else if (m.type === 'hello') {
      for (const g of this.globals) this.channel().post({ type: 'declare', tab: this.tab, pattern: g });
    }
  }

  held(pid: number): Array<{ slot: number; pattern: string }> {
    return [...this.subs.values()].filter((s) => s.owner === pid).map((s) => ({ slot: s.slot, pattern: s.pattern }));
  }

  reopen(pid: number, pattern: string, incarnation: number): { slot: number; gen: number } {
    if (!isTopic(pattern, true)) throw new KernelError('bus/invalid-topic', 'not a valid topic pattern');
    const sub = this.reattach(pid, pattern) ?? this.open(pattern, pid, this.inboxBytes, BUS_LIMITS.maxPerProcess);
    sub.holder = incarnation;
    return { slot: sub.slot, gen: sub.gen };
  }

  stats(): BusStats {
    return {
      subscriptions: this.arena.stats().map((s) => ({
        pid: s.owner,
        name: s.owner === PAGE_PID ? 'page' : (this.host.process(s.owner)?.name ?? `pid ${s.owner}`),
        pattern: s.pattern,
        queued: s.queued,
        delivered: s.delivered,
        dropped: s.dropped,
        capacity: s.capacity,
      })),
      topics: this.monitor.stats((pid) => (pid === PAGE_PID ? 'page' : pid === REMOTE_PID ? 'another tab' : (this.host.process(pid)?.name ?? `pid ${pid}`))),
      globals: [...this.globals],
      watching: this.stopWatch !== null,
    };
  }

  watch(on: boolean): void {
    if (on && this.stopWatch === null) this.stopWatch = this.listen('*', this.inboxBytes, (f) => this.monitor.record(f));
    if (!on && this.stopWatch !== null) {
      this.stopWatch();
      this.stopWatch = null;
    }
  }
}
