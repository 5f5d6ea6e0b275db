/**
 * A Link (../link.ts) over one `/webmk/link/1` stream, after the handshake. Delivery is counted:
 * each side acks how many messages it has received (every heartbeat, and in its `bye`), so what
 * was sent and never acked is the `undelivered` count when the link ends. Liveness does not wait
 * for WebRTC to time out (tens of seconds): a link that hears nothing, not even a heartbeat, for
 * `lostAfterMs` ends with `link-lost`. A heartbeat answers a heartbeat, so a throttled
 * background tab is kept alive by its peer's timers.
 */
import { KernelError } from '../../common';
import type { Link, LinkEnd, LinkEndReason } from '../link';
import { decodeMessage, encodeMessage } from './codec';
import type { FramedStream } from './framed-stream';
import { FrameKind, MAX_FRAME, ackFrame, frame, readAck, type Ack, type Frame } from './frames';

/** Bytes queued past which `writable()` waits. */
export const HIGH_WATER = 1024 * 1024;

/** How often a link says it is alive, and how long silence means it is lost. */
export interface Liveness {
  heartbeatMs: number;
  lostAfterMs: number;
}

/** Defaults: a killed peer is noticed in 4-5 s. */
export const LIVENESS: Liveness = { heartbeatMs: 1000, lostAfterMs: 4000 };

/** The device Link. */
export class DeviceLink implements Link {
  readonly kind = 'device' as const;
  readonly ended: Promise<LinkEnd>;
  /** When the link opened (ms since the epoch). */
  readonly openedAt = Date.now();
  /** The last round trip measured by the heartbeats, ms (undefined until one is). */
  rttMs: number | undefined;
  #resolveEnded!: (end: LinkEnd) => void;
  #stream: FramedStream;
  #liveness: Liveness;
  #onMessage: ((message: unknown) => void) | null = null;
  #early: unknown[] = [];
  #sent = 0;
  #received = 0;
  #acked = 0;
  #lastHeard = Date.now();
  #lastAckSent = 0;
  /** The other side's last timestamp, and when (on this side's clock) it arrived. */
  #peerAt = 0;
  #peerAtHere = 0;
  #timer: ReturnType<typeof setInterval>;
  #done = false;
  #closing = false;
  #waiters: Array<() => void> = [];

  constructor(
    readonly peer: string,
    /** Whether this side dialled. */
    readonly outbound: boolean,
    stream: FramedStream,
    liveness: Liveness = LIVENESS,
    /** The other device's name for people, as it gave it. */
    readonly name?: string,
  ) {
    this.#stream = stream;
    this.#liveness = liveness;
    this.ended = new Promise((r) => (this.#resolveEnded = r));
    this.#timer = setInterval(() => this.#tick(), liveness.heartbeatMs);
    stream.onDrained = () => this.#wake();
    stream.onClose = () => this.#finish(this.#closing ? 'local' : 'link-lost');
    stream.onFrame = (f) => this.#frame(f);
    this.#ack();
  }

  get onMessage(): ((message: unknown) => void) | null {
    return this.#onMessage;
  }

  /** Messages that arrive before an owner is set wait for it, in order. */
  set onMessage(fn: ((message: unknown) => void) | null) {
    this.#onMessage = fn;
    if (fn === null) return;
    const early = this.#early;
    this.#early = [];
    for (const m of early) fn(m);
  }

  send(message: unknown): void {
    if (this.#done || this.#closing) throw new KernelError('remote/link-lost', `the link to ${this.peer} has ended`, { peer: this.peer });
    const bytes = encodeMessage(message);
    if (bytes.length > MAX_FRAME) {
      throw new KernelError('ipc/too-large', `a link message of ${bytes.length} bytes is over the ${MAX_FRAME}-byte limit`, { limit: MAX_FRAME });
    }
    this.#sent++;
    this.#stream.write(frame(FrameKind.message, bytes));
  }

  writable(): Promise<void> {
    if (this.#done || this.#stream.queued < HIGH_WATER) return Promise.resolve();
    return new Promise((r) => this.#waiters.push(r));
  }

  close(): void {
    if (this.#done || this.#closing) return;
    this.#closing = true;
    this.#stream.write(this.#bye());
    // The other side answers `bye` with its own (its received count); without one soon, the
    // count from its last heartbeat stands.
    setTimeout(() => void this.#stream.close(), this.#liveness.lostAfterMs);
  }

  /** Ends the link at once as lost (its peer came back on a newer link), dropping the stream. */
  drop(): void {
    this.#finish('link-lost');
    void this.#stream.close(new KernelError('remote/link-lost', `the link to ${this.peer} was replaced by a newer one`));
  }

  #bye(): Uint8Array {
    return ackFrame(this.#stamp(), FrameKind.bye);
  }

  #stamp(): Ack {
    const now = performance.now();
    return { received: this.#received, at: now, echo: this.#peerAt, held: this.#peerAt === 0 ? 0 : now - this.#peerAtHere };
  }

  #frame(f: Frame): void {
    this.#lastHeard = Date.now();
    if (f.kind === FrameKind.message) {
      let m: unknown;
      try {
        m = decodeMessage(f.payload);
      } catch (e) {
        // A peer that sends what is no message is broken or hostile: the link ends, loudly.
        void this.#stream.close(e instanceof KernelError ? e : new KernelError('ipc/malformed', String(e)));
        return;
      }
      this.#received++;
      if (this.#onMessage === null) this.#early.push(m);
      else this.#onMessage(m);
    } else if (f.kind === FrameKind.ack) {
      this.#heard(readAck(f.payload));
      if (Date.now() - this.#lastAckSent > this.#liveness.heartbeatMs / 2) this.#ack();
    } else if (f.kind === FrameKind.bye) {
      this.#heard(readAck(f.payload));
      if (this.#closing) {
        void this.#stream.close();
        return;
      }
      // The other side closes: answer with ours so it can count, then end.
      this.#stream.write(this.#bye());
      this.#finish('closed');
      void this.#stream.close();
    } else {
      void this.#stream.close(new KernelError('ipc/malformed', `a link frame of unknown kind ${f.kind}`));
    }
  }

  #heard(ack: Ack | undefined): void {
    if (ack === undefined) return;
    if (ack.received > this.#acked && ack.received <= this.#sent) this.#acked = ack.received;
    const now = performance.now();
    if (ack.at > 0) {
      this.#peerAt = ack.at;
      this.#peerAtHere = now;
    }
    const rtt = now - ack.echo - ack.held;
    if (ack.echo > 0 && rtt >= 0 && rtt < 60_000) this.rttMs = rtt;
  }

  #ack(): void {
    this.#lastAckSent = Date.now();
    this.#stream.write(ackFrame(this.#stamp()));
  }

  #tick(): void {
    if (Date.now() - this.#lastHeard > this.#liveness.lostAfterMs) {
      this.#finish(this.#closing ? 'local' : 'link-lost');
      void this.#stream.close(new KernelError('remote/link-lost', `no word from ${this.peer} in ${this.#liveness.lostAfterMs} ms`));
      return;
    }
    if (Date.now() - this.#lastAckSent >= this.#liveness.heartbeatMs / 2) this.#ack();
  }

  #wake(): void {
    if (this.#stream.queued >= HIGH_WATER) return;
    const w = this.#waiters;
    this.#waiters = [];
    for (const fn of w) fn();
  }

  #finish(reason: LinkEndReason): void {
    if (this.#done) return;
    this.#done = true;
    clearInterval(this.#timer);
    const w = this.#waiters;
    this.#waiters = [];
    for (const fn of w) fn();
    this.#resolveEnded({ reason, undelivered: this.#sent - this.#acked });
  }
}
