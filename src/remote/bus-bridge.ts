/**
 * Bus topics across a link for one remote process (ADR 0020): on the node that runs it, what it
 * may publish (its grants there) is heard on that node's bus and sent to the caller, which
 * publishes it on its own; on the caller, what the process may subscribe to is heard and sent
 * to be published where it runs. A message a bridge published itself comes back to it when the
 * same topic is both heard and published (a module that publishes and subscribes to a topic):
 * that echo is recognised and not sent back, so nothing loops.
 */

/** The part of a kernel's bus a bridge uses (the page's side of it). */
export interface BusLike {
  publish(topic: string, data: Uint8Array): void;
  subscribe(pattern: string, onMessage: (data: Uint8Array, topic: string) => void): () => void;
}

/** Echoes remembered at most; past it the oldest are forgotten (a message may then cross twice). */
const MAX_ECHOES = 1024;

/** A cheap fingerprint of a message (FNV-1a over its bytes, with its topic and length). */
function key(topic: string, data: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ (data[i] ?? 0), 0x01000193);
  return `${topic}\0${data.length}\0${(h >>> 0).toString(16)}`;
}

/** The topics of one remote process across one link, on one side of it. */
export class BusBridge {
  private readonly off: Array<() => void> = [];
  /** Messages this bridge published and expects to hear back, by fingerprint, with counts. */
  private readonly echoes = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly bus: BusLike,
    /** Sends a heard message across the link. */
    private readonly send: (topic: string, data: Uint8Array) => void,
  ) {}

  /** Hears `patterns` on this node's bus and sends what it hears. */
  listen(patterns: readonly string[]): void {
    for (const p of patterns) {
      try {
        this.off.push(this.bus.subscribe(p, (data, topic) => this.heard(topic, data)));
      } catch {
        // A pattern this bus refuses (a malformed one from an older record) is not bridged.
      }
    }
  }

  /** Publishes here a message that came across the link. */
  deliver(topic: string, data: Uint8Array): void {
    if (this.closed) return;
    const k = key(topic, data);
    this.echoes.set(k, (this.echoes.get(k) ?? 0) + 1);
    if (this.echoes.size > MAX_ECHOES) this.echoes.delete(this.echoes.keys().next().value ?? k);
    try {
      this.bus.publish(topic, data);
    } catch {
      // A topic or size this bus refuses: the other node's grants allowed it, this bus does not.
    }
  }

  close(): void {
    this.closed = true;
    for (const off of this.off.splice(0)) off();
    this.echoes.clear();
  }

  private heard(topic: string, data: Uint8Array): void {
    if (this.closed) return;
    const k = key(topic, data);
    const n = this.echoes.get(k);
    if (n !== undefined) {
      if (n <= 1) this.echoes.delete(k);
      else this.echoes.set(k, n - 1);
      return;
    }
    this.send(topic, data);
  }
}
