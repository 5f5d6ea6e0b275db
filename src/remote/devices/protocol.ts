/**
 * The `/webmk/link/1` handshake, on a stream over a direct (WebRTC) connection whose peer id
 * libp2p has authenticated. The dialer's first frame is `hello`; the listener answers
 * `welcome`, accepted or refused. Only then is the stream a Link.
 */

/** The protocol id; its version changes with the frames or this handshake. */
export const LINK_PROTOCOL = '/webmk/link/1';

/** The dialer's first frame. */
export interface Hello {
  type: 'hello';
  v: 1;
  /** The one-time pairing secret from the listener's pairing link; absent on a redial. */
  secret?: string;
  /** The relay the dialer is reachable through (the listener redials through it). */
  relay?: string;
  /** The dialer's name for people. */
  name?: string;
}

/** The listener's answer. */
export type Welcome = { type: 'welcome'; v: 1; ok: true; name?: string } | { type: 'welcome'; v: 1; ok: false; code: RefusalCode };

/** A name as a peer may give it: a short string, or nothing. */
function nameOf(v: unknown): string | undefined | null {
  if (v === undefined) return undefined;
  return typeof v === 'string' && v.length <= 64 ? v : null;
}

/** Why a hello was refused. */
export type RefusalCode = 'remote/not-paired';

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Accepts a Hello, or undefined. */
export function parseHello(v: unknown): Hello | undefined {
  const r = record(v);
  if (r?.type !== 'hello' || r.v !== 1) return undefined;
  if (r.secret !== undefined && (typeof r.secret !== 'string' || r.secret.length > 256)) return undefined;
  if (r.relay !== undefined && (typeof r.relay !== 'string' || !r.relay.startsWith('/') || r.relay.length > 1024)) return undefined;
  const name = nameOf(r.name);
  if (name === null) return undefined;
  const hello: Hello = { type: 'hello', v: 1 };
  if (typeof r.secret === 'string') hello.secret = r.secret;
  if (typeof r.relay === 'string') hello.relay = r.relay;
  if (name !== undefined) hello.name = name;
  return hello;
}

/** Accepts a Welcome, or undefined. */
export function parseWelcome(v: unknown): Welcome | undefined {
  const r = record(v);
  if (r?.type !== 'welcome' || r.v !== 1) return undefined;
  if (r.ok === true) {
    const name = nameOf(r.name);
    if (name === null) return undefined;
    return name === undefined ? { type: 'welcome', v: 1, ok: true } : { type: 'welcome', v: 1, ok: true, name };
  }
  if (r.ok === false && r.code === 'remote/not-paired') return { type: 'welcome', v: 1, ok: false, code: r.code };
  return undefined;
}

/** What a pairing link carries. */
export interface PairingLink {
  peer: string;
  relay: string;
  secret: string;
}

/**
 * Reads a pairing link: any URL whose fragment is `pair=<peer id>&relay=<multiaddr>&secret=<s>`
 * (the fragment never reaches a server). Undefined for anything else.
 */
export function parsePairingLink(text: string): PairingLink | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  const q = new URLSearchParams(url.hash.slice(1));
  const peer = q.get('pair');
  const relay = q.get('relay');
  const secret = q.get('secret');
  if (peer === null || relay === null || secret === null) return undefined;
  if (!/^[1-9A-HJ-NP-Za-km-z]{40,64}$/.test(peer) || !relay.startsWith('/') || !/^[\w-]{16,64}$/.test(secret)) return undefined;
  return { peer, relay, secret };
}

/** Writes a pairing link on `base` (the app's address). */
export function pairingLinkFor(base: string, link: PairingLink): string {
  const url = new URL(base);
  url.hash = new URLSearchParams({ pair: link.peer, relay: link.relay, secret: link.secret }).toString();
  return url.toString();
}
