/**
 * The link to one other tab, on the channel of that pair of tabs. Messages are numbered and the
 * other side acknowledges them in batches, so the link knows what is in flight: `writable()`
 * waits while too much is, and when the link ends, what was never acknowledged is counted as
 * undelivered (the contract's "not known to be delivered").
 */
import { KernelError } from '../../common';
import type { Link, LinkEnd, LinkEndReason, LinkMessage } from '../link';
import { TAB_WIRE_VERSION, TabTag, type TabMessage } from './wire';

/** In flight beyond either of these, `writable()` waits. */
const HIGH_MESSAGES = 512;
const HIGH_BYTES = 4 * 1024 * 1024;
/**
 * A receiver acknowledges at least every this many messages or bytes, at once: a hidden tab's
 * timers may wait a second, and the sender must never wait on a timer to go on.
 */
const ACK_EVERY = 64;
const ACK_EVERY_BYTES = HIGH_BYTES / 4;
/**
 * ...and the rest this long after, unless a message it sends first carries the acknowledgement
 * (an answer usually does, so a conversation costs no acknowledgement messages).
 */
const ACK_DELAY_MS = 4;

type Outgoing = { type: TabMessage['type'] } & Record<string, unknown>;

/** The bytes of a message that matter for back-pressure: its byte arrays, one level deep. */
function weight(message: LinkMessage): number {
  if (message instanceof Uint8Array) return message.byteLength;
  if (typeof message !== 'object' || message === null) return 64;
  let n = 64;
  for (const v of Object.values(message)) if (v instanceof Uint8Array) n += v.byteLength;
  return n;
}

/** The link to one other tab; made and ended by `Tabs`, owned once up by whoever `onLink` gives it to. */
export class TabLink implements Link {
  readonly kind = 'tab' as const;
  onMessage: ((message: unknown) => void) | null = null;
  readonly ended: Promise<LinkEnd>;
  /** Last measured round trip, ms. */
  rttMs: number | undefined;
  private sent = 0;
  private acked = 0;
  private received = 0;
  private ackedUpTo = 0;
  /** Bytes received since the last acknowledgement. */
  private unackedBytes = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  /** Weights of the messages in flight, oldest first, with their numbers. */
  private readonly flight: Array<[seq: number, bytes: number]> = [];
  private flightBytes = 0;
  private waiters: Array<() => void> = [];
  private end: LinkEnd | undefined;
  private settle!: (end: LinkEnd) => void;

  constructor(
    readonly self: string,
    readonly peer: string,
    readonly name: string,
    /** Posts on the pair's channel. */
    private readonly post: (m: TabMessage) => void,
  ) {
    this.ended = new Promise((ok) => (this.settle = ok));
  }

  /** Whether the link has ended. */
  get over(): boolean {
    return this.end !== undefined;
  }

  send(message: LinkMessage): void {
    if (this.end !== undefined) throw new KernelError('remote/link-lost', `the link to tab ${this.peer} has ended (${this.end.reason})`, { node: this.peer });
    const seq = ++this.sent;
    const bytes = weight(message);
    this.flight.push([seq, bytes]);
    this.flightBytes += bytes;
    const ack = this.received > this.ackedUpTo ? this.received : undefined;
    if (ack !== undefined) {
      this.ackedUpTo = ack;
      this.unackedBytes = 0;
      if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
    }
    this.out({ type: TabTag.data, seq, body: message, ...(ack !== undefined ? { ack } : {}) });
  }

  writable(): Promise<void> {
    if (this.end !== undefined || !this.full()) return Promise.resolve();
    return new Promise((ok) => this.waiters.push(ok));
  }

  close(): void {
    if (this.end !== undefined) return;
    this.out({ type: TabTag.close });
    this.finish('local');
  }

  /** A message from the peer on the pair's channel (already parsed and addressed to this tab). */
  receive(m: TabMessage): void {
    if (this.end !== undefined) return;
    switch (m.type) {
      case TabTag.data:
        // The channel keeps order; a number already seen is a duplicate and is dropped.
        if (m.ack !== undefined) this.acknowledged(m.ack);
        if (m.seq <= this.received) return;
        this.received = m.seq;
        this.unackedBytes += weight(m.body);
        this.scheduleAck();
        try {
          this.onMessage?.(m.body);
        } catch {
          // The owner's failure is its own; the link goes on.
        }
        return;
      case TabTag.ack:
        this.acknowledged(m.seq);
        return;
      case TabTag.ping:
        this.out({ type: TabTag.pong, t: m.t });
        return;
      case TabTag.pong:
        this.rttMs = performance.now() - m.t;
        return;
      case TabTag.close:
        this.finish('closed');
        return;
      default:
        return;
    }
  }

  /** Measures the round trip once (the answer sets `rttMs`). */
  ping(): void {
    if (this.end === undefined) this.out({ type: TabTag.ping, t: performance.now() });
  }

  /** Ends the link: `link-lost` when the other tab is gone, `closed` when it said so. */
  finish(reason: LinkEndReason): void {
    if (this.end !== undefined) return;
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.end = { reason, undelivered: this.sent - this.acked };
    this.flight.length = 0;
    this.wake();
    this.settle(this.end);
  }

  private acknowledged(seq: number): void {
    if (seq <= this.acked || seq > this.sent) return;
    this.acked = seq;
    while (this.flight.length > 0 && (this.flight[0]?.[0] ?? Infinity) <= seq) this.flightBytes -= this.flight.shift()?.[1] ?? 0;
    if (!this.full()) this.wake();
  }

  private scheduleAck(): void {
    if (this.received - this.ackedUpTo >= ACK_EVERY || this.unackedBytes >= ACK_EVERY_BYTES) {
      this.sendAck();
      return;
    }
    this.ackTimer ??= setTimeout(() => this.sendAck(), ACK_DELAY_MS);
  }

  private sendAck(): void {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.end !== undefined || this.ackedUpTo === this.received) return;
    this.ackedUpTo = this.received;
    this.unackedBytes = 0;
    this.out({ type: TabTag.ack, seq: this.received });
  }

  private full(): boolean {
    return this.sent - this.acked >= HIGH_MESSAGES || this.flightBytes >= HIGH_BYTES;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const ok of w) ok();
  }

  private out(m: Outgoing): void {
    this.post({ ...m, v: TAB_WIRE_VERSION, from: this.self, to: this.peer } as TabMessage);
  }
}
