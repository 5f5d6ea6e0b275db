/**
 * The nodes this kernel reaches: one entry per live link, whatever its transport (tabs now,
 * devices through js-libp2p). A transport hands each new link to `attach`; the entry goes when
 * the link ends, and every change is reported, so the kernel can emit its `nodes` event.
 */
import type { Link, LinkEnd } from './link';

/** One node as `kernel.nodes()` lists it. */
export interface NodeInfo {
  id: string;
  kind: 'tab' | 'device';
  /** A name for people. */
  name: string;
  /** Whether a link to it is up now. */
  connected: boolean;
  /** The last measured round trip, ms (absent until measured). */
  rttMs?: number;
}

/** A node that went away, and how its link ended. */
export interface NodeGone {
  id: string;
  end: LinkEnd;
}

/** The nodes reachable now, one per live link; owned by `Remote`. */
export class Nodes {
  private readonly links = new Map<string, Link>();
  /** Links ended so far, and the messages they could not deliver, summed. */
  private lost = { links: 0, undelivered: 0 };

  constructor(
    /** This node's id. */
    readonly self: string,
    /** A node came (`gone` undefined) or went. */
    private readonly changed: (gone?: NodeGone) => void,
  ) {}

  /** Takes a new link; a second link to the same node replaces the first (which is closed). */
  attach(link: Link): void {
    const old = this.links.get(link.peer);
    this.links.set(link.peer, link);
    old?.close();
    void link.ended.then((end) => {
      if (this.links.get(link.peer) !== link) return;
      this.links.delete(link.peer);
      this.lost = { links: this.lost.links + 1, undelivered: this.lost.undelivered + end.undelivered };
      this.changed({ id: link.peer, end });
    });
    this.changed();
  }

  /** The link to a node, if it is up. */
  link(id: string): Link | undefined {
    return this.links.get(id);
  }

  /** Every node reachable now, tabs first, then by name. */
  list(): NodeInfo[] {
    return [...this.links.values()]
      .map((l): NodeInfo => ({ id: l.peer, kind: l.kind, name: l.name ?? l.peer, connected: true, ...(l.rttMs !== undefined ? { rttMs: Math.round(l.rttMs * 1000) / 1000 } : {}) }))
      .sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : 1) : a.kind === 'tab' ? -1 : 1));
  }

  /** Links that ended and what they left undelivered, summed over this kernel's life. */
  losses(): { links: number; undelivered: number } {
    return { ...this.lost };
  }

  /** Closes every link. */
  dispose(): void {
    for (const l of [...this.links.values()]) l.close();
  }
}
