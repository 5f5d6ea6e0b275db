/**
 * Finding the other tabs of the app, and noticing when one goes (ADR 0020). Each tab holds a Web
 * Lock named after its id for as long as it lives, and only then says hello on the app's
 * channel; a tab that hears of another waits on that one's lock, which the browser grants the
 * moment the other tab closes or its renderer dies (tens of milliseconds, FACTS.md). The traffic
 * of a pair of tabs goes on a BroadcastChannel only those two open, so a third tab never clones
 * what is not for it.
 */
import { parseTabMessage } from './parse';
import { TabLink } from './tab-link';
import { TAB_WIRE_VERSION, TabTag, type TabMessage } from './wire';

/** How often a link measures its round trip, ms. */
const PING_EVERY_MS = 2000;

/** How tabs of one app find each other. */
export interface TabsOptions {
  /** Tabs meet only others with the same namespace (the kernel's database: the same app). */
  namespace: string;
  /** This tab's id (16 hex digits). */
  id: string;
  /** A name for people. */
  name: string;
  /** A new link to another tab, up and ready for messages. */
  onLink(link: TabLink): void;
}

interface Pair {
  channel: BroadcastChannel;
  name: string;
  link: TabLink | undefined;
  /** Aborts the wait on the other tab's lock. */
  watch: AbortController;
  timer: ReturnType<typeof setInterval> | undefined;
}

/** A message before the sender's fields are added. */
type Unsent = TabMessage extends infer M ? (M extends TabMessage ? Omit<M, 'v' | 'from'> : never) : never;

const lockName = (ns: string, id: string): string => `webmk-node/${ns}/${id}`;

/** This tab's presence among the app's tabs: its lock, the app's channel, a pair channel per other tab. */
export class Tabs {
  private readonly main: BroadcastChannel;
  private readonly pairs = new Map<string, Pair>();
  private release: (() => void) | undefined;
  private disposed = false;

  /** Whether this realm has what the transport needs (BroadcastChannel and Web Locks). */
  static available(): boolean {
    return typeof BroadcastChannel !== 'undefined' && typeof navigator !== 'undefined' && navigator.locks !== undefined;
  }

  constructor(private readonly opts: TabsOptions) {
    this.main = new BroadcastChannel(`webmk-tabs/${opts.namespace}`);
  }

  /** Takes this tab's lock, then says hello. Resolves once the hello is out; never rejects. */
  async start(): Promise<void> {
    const { namespace, id } = this.opts;
    await new Promise<void>((held) => {
      navigator.locks
        .request(lockName(namespace, id), () => {
          held();
          return new Promise<void>((ok) => (this.release = ok));
        })
        .catch(() => held());
    });
    if (this.disposed) return this.release?.();
    this.main.onmessage = (e: MessageEvent) => this.onMain(e.data);
    this.post(this.main, { type: TabTag.hello, to: '*', name: this.opts.name });
  }

  /** Says goodbye to every tab, ends every link (`local`), lets go of the lock. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const peer of [...this.pairs.keys()]) {
      const pair = this.pairs.get(peer);
      pair?.link?.close();
      if (pair?.link === undefined) this.post(pair?.channel, { type: TabTag.close, to: peer });
      this.drop(peer);
    }
    this.main.close();
    this.release?.();
  }

  private onMain(data: unknown): void {
    const m = parseTabMessage(data);
    // Malformed discovery from an unknown sender has nobody to answer: it is dropped.
    if (typeof m === 'string' || m.from === this.opts.id || (m.to !== '*' && m.to !== this.opts.id)) return;
    if (m.type === TabTag.hello) {
      this.meet(m.from, m.name);
      this.post(this.main, { type: TabTag.announce, to: m.from, name: this.opts.name });
    } else if (m.type === TabTag.announce) {
      this.meet(m.from, m.name);
    }
  }

  /** Opens the pair's channel and says so on it, until the other side answers. */
  private meet(peer: string, name: string): void {
    if (this.disposed || this.pairs.has(peer)) return;
    const { namespace, id } = this.opts;
    const [a, b] = id < peer ? [id, peer] : [peer, id];
    const pair: Pair = { channel: new BroadcastChannel(`webmk-tabs/${namespace}/${a}/${b}`), name, link: undefined, watch: new AbortController(), timer: undefined };
    this.pairs.set(peer, pair);
    pair.channel.onmessage = (e: MessageEvent) => this.onPair(peer, e.data);
    // Granted only once the other tab no longer holds it: closed, crashed or navigated away.
    navigator.locks
      .request(lockName(namespace, peer), { signal: pair.watch.signal }, () => this.gone(peer))
      .catch(() => {});
    // The other side may not listen on the pair's channel yet: its answer (`open` or
    // `open-ack`) is what proves both do.
    this.post(pair.channel, { type: TabTag.open, to: peer });
  }

  private onPair(peer: string, data: unknown): void {
    const pair = this.pairs.get(peer);
    if (pair === undefined) return;
    const m = parseTabMessage(data);
    if (typeof m === 'string') {
      this.post(pair.channel, { type: TabTag.error, to: peer, message: m });
      return;
    }
    if (m.from !== peer || m.to !== this.opts.id) return;
    if (m.type === TabTag.open || m.type === TabTag.openAck) {
      if (m.type === TabTag.open) this.post(pair.channel, { type: TabTag.openAck, to: peer });
      if (pair.link === undefined) this.up(peer, pair);
      return;
    }
    if (m.type === TabTag.close && pair.link === undefined) {
      this.drop(peer);
      return;
    }
    pair.link?.receive(m);
  }

  private up(peer: string, pair: Pair): void {
    const link = new TabLink(this.opts.id, peer, pair.name, (m) => this.send(pair.channel, m));
    pair.link = link;
    link.ping();
    pair.timer = setInterval(() => link.ping(), PING_EVERY_MS);
    void link.ended.then(() => this.drop(peer));
    this.opts.onLink(link);
  }

  /** The other tab let go of its lock: it is gone. */
  private gone(peer: string): void {
    const pair = this.pairs.get(peer);
    if (pair === undefined) return;
    if (pair.link !== undefined) pair.link.finish('link-lost');
    this.drop(peer);
  }

  private drop(peer: string): void {
    const pair = this.pairs.get(peer);
    if (pair === undefined) return;
    this.pairs.delete(peer);
    if (pair.timer !== undefined) clearInterval(pair.timer);
    pair.watch.abort();
    pair.link?.finish('link-lost');
    pair.channel.close();
  }

  private post(channel: BroadcastChannel | undefined, m: Unsent): void {
    this.send(channel, { ...m, v: TAB_WIRE_VERSION, from: this.opts.id } as TabMessage);
  }

  private send(channel: BroadcastChannel | undefined, m: TabMessage): void {
    try {
      channel?.postMessage(m);
    } catch {
      // A closed channel (the pair was dropped): the link has ended already and counts it.
    }
  }
}
