/**
 * A link: one two-way message channel between this node and one other node (a tab of the app on
 * this browser, or a device reached through js-libp2p). Everything remote (nodes, remote
 * processes, bus topics and pipes across) is built on this one contract, so a transport only has
 * to carry messages, in order, and say when it is gone.
 */

/** Why a link ended: the other side closed it, it was lost (a closed or crashed tab, a dropped
 * connection, no answer to pings), or this side closed it. */
export type LinkEndReason = 'closed' | 'link-lost' | 'local';

/** How a link ended, with how many messages sent on it were not known to be delivered. */
export interface LinkEnd {
  reason: LinkEndReason;
  /** Messages handed to `send` that the link could not deliver before it ended. */
  undelivered: number;
}

/**
 * What crosses a link: JSON values (null, booleans, finite numbers, strings, arrays, plain
 * objects) and `Uint8Array`s anywhere inside them. A transport that is not structured clone
 * (libp2p streams) encodes exactly this set; the receiver parses what it gets as `unknown`.
 */
export type LinkMessage = unknown;

/** One connection to another node. Messages arrive in the order they were sent. */
export interface Link {
  /** The other node's id. */
  readonly peer: string;
  readonly kind: 'tab' | 'device';
  /** A name for people (the other node's, as it gave it), where the transport knows one. */
  readonly name?: string;
  /** The last measured round trip to the other node, ms, where the transport measures one. */
  readonly rttMs?: number;
  /**
   * Queues one message. Throws a KernelError `remote/link-lost` once the link has ended. Never
   * blocks; a sender that must not outrun the link waits on `writable()`.
   */
  send(message: LinkMessage): void;
  /** Resolves when the queue of unsent bytes is below the transport's high-water mark. */
  writable(): Promise<void>;
  /** Receives each message, in order; set by the one owner of the link. */
  onMessage: ((message: unknown) => void) | null;
  /** Settles once, when the link has ended, whichever side ended it. */
  readonly ended: Promise<LinkEnd>;
  /** Ends the link from this side (reason `local` here, `closed` on the other side). */
  close(): void;
}
