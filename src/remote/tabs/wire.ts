/**
 * What tabs of the app say to each other (types only). Discovery (`hello`, `announce`) goes on
 * the app's channel, which every tab hears; everything else goes on the channel of one pair of
 * tabs. Every message names its sender and its target (FACTS.md: a BroadcastChannel reaches all
 * the tabs that opened it), and a tab drops what is not addressed to it.
 */

/** The version every message carries. */
export const TAB_WIRE_VERSION = 1;

/** The message tags, as data. */
export const TabTag = {
  /** A tab opened: to every tab (`to` is `*`). */
  hello: 'hello',
  /** The answer to a hello: I am here too. */
  announce: 'announce',
  /** On the pair's channel: I listen here (sent until the other side answers). */
  open: 'open',
  openAck: 'open-ack',
  /** One message of the link, numbered from 1. */
  data: 'data',
  /** Every data message up to `seq` arrived. */
  ack: 'ack',
  ping: 'ping',
  pong: 'pong',
  /** The sender closes the link (or the tab is going away). */
  close: 'close',
  /** The sender could not parse a message addressed to it. */
  error: 'error',
} as const;

interface Base {
  v: typeof TAB_WIRE_VERSION;
  from: string;
  /** The target tab's id; `*` for a hello. */
  to: string;
}

/** One message between tabs. */
export type TabMessage =
  | (Base & { type: typeof TabTag.hello | typeof TabTag.announce; name: string })
  | (Base & { type: typeof TabTag.open | typeof TabTag.openAck | typeof TabTag.close })
  /** `ack`: the sender's acknowledgement, carried along instead of an `ack` message of its own. */
  | (Base & { type: typeof TabTag.data; seq: number; body: unknown; ack?: number })
  | (Base & { type: typeof TabTag.ack; seq: number })
  | (Base & { type: typeof TabTag.ping | typeof TabTag.pong; t: number })
  | (Base & { type: typeof TabTag.error; message: string });
