/** The devices API's shapes (no libp2p in here: the page loads this before libp2p). */
import type { Link, LinkEnd } from '../link';
import type { PairedPeer } from './store';

/** How devices start. */
export interface DevicesOptions {
  /** The relay's multiaddr (e.g. `/dns4/relay.example.org/tcp/443/wss/p2p/12D3…`); default: the stored setting. */
  relay?: string;
  /** This device's name for people, given to the devices it links with; default: browser and platform. */
  name?: string;
  /** ICE servers for WebRTC (STUN/TURN); default none: devices on one network still connect. */
  iceServers?: RTCIceServer[];
  /** The app's address pairing links open; default: this page's address without its fragment. */
  appUrl?: string;
  /** How long the relay may take to give a reservation; default 20 s. */
  relayTimeoutMs?: number;
  /** Heartbeat and silence before `link-lost`; default 1 s and 4 s. */
  liveness?: { heartbeatMs: number; lostAfterMs: number };
}

/** A paired device as listed: remembered, and whether a link to it is open now. */
export interface DeviceInfo extends PairedPeer {
  connected: boolean;
}

/** What devices report: a link opened, a link ended, the paired list changed. */
export type DevicesEvent =
  | { type: 'link'; link: Link }
  | { type: 'ended'; peer: string; end: LinkEnd }
  | { type: 'paired'; peer: string }
  | { type: 'forgotten'; peer: string };

/** Devices turned on: this node on the relay, its paired devices and their links. */
export interface Devices {
  /** This node's peer id (its public key). */
  readonly id: string;
  /** The relay this node is reachable through. */
  readonly relay: string;
  /** A new pairing link (peer id, relay, one-time secret); valid once, for 15 minutes, while devices stay on. */
  pairingLink(): string;
  /** Pairs with the device whose link this is; resolves with the open link. Rejects `remote/bad-pairing-link`, `remote/dial-failed`, `remote/not-paired`. */
  pair(link: string): Promise<Link>;
  /** The paired devices. */
  paired(): Promise<DeviceInfo[]>;
  /** Forgets a paired device and closes its link. */
  forget(id: string): Promise<void>;
  /** The open links. */
  links(): Link[];
  /** Calls `fn` on each event; returns the unsubscribe. */
  subscribe(fn: (e: DevicesEvent) => void): () => void;
  /** Closes every link and leaves the relay. */
  stop(): Promise<void>;
}
