/** Parses what arrives on a tabs channel: `unknown` until it is a well-formed TabMessage. */
import { TAB_WIRE_VERSION, TabTag, type TabMessage } from './wire';

const TAGS: ReadonlySet<string> = new Set(Object.values(TabTag));

/** Tab ids are what `newNodeId` makes, or `*` for everyone. */
const ID = /^(\*|[0-9a-f]{16})$/;

/** The message, or why it is not one (a string). */
export function parseTabMessage(data: unknown): TabMessage | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not an object';
  const m = data as Record<string, unknown>;
  if (m.v !== TAB_WIRE_VERSION) return `version ${String(m.v)} is not ${TAB_WIRE_VERSION}`;
  const { type, from, to } = m;
  if (typeof type !== 'string' || !TAGS.has(type)) return `unknown type ${String(type)}`;
  if (typeof from !== 'string' || typeof to !== 'string' || !ID.test(from) || from === '*' || !ID.test(to)) return 'bad sender or target';
  const base = { v: TAB_WIRE_VERSION, from, to } as const;
  switch (type) {
    case TabTag.hello:
    case TabTag.announce:
      return typeof m.name === 'string' && m.name.length <= 200 ? { ...base, type, name: m.name } : 'bad name';
    case TabTag.open:
    case TabTag.openAck:
    case TabTag.close:
      return { ...base, type };
    case TabTag.data:
      if (m.ack !== undefined && !isSeq(m.ack)) return 'bad ack';
      return isSeq(m.seq) ? { ...base, type, seq: m.seq, body: m.body, ...(m.ack !== undefined ? { ack: m.ack } : {}) } : 'bad seq';
    case TabTag.ack:
      return isSeq(m.seq) ? { ...base, type, seq: m.seq } : 'bad seq';
    case TabTag.ping:
    case TabTag.pong:
      return typeof m.t === 'number' && Number.isFinite(m.t) ? { ...base, type, t: m.t } : 'bad time';
    case TabTag.error:
      return typeof m.message === 'string' ? { ...base, type, message: m.message.slice(0, 500) } : 'bad message';
    default:
      return `unknown type ${type}`;
  }
}

function isSeq(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** A new node id: 16 lower-case hex digits (64 random bits). */
export function newNodeId(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
