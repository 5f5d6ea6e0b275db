/**
 * Devices turned on: pairing (one-time secrets checked on the first exchange), the remembered
 * peers, one link per peer, and redial. On start a node dials every paired device; after a lost
 * link only the one with the smaller peer id redials, so the link comes back as one, not two
 * racing ones. Two links that do cross (both started at once) settle on the one the smaller id
 * dialled, on both sides.
 */
import { KernelError } from '../../common';
import type { Link } from '../link';
import type { DeviceLink } from './device-link';
import { startNode, type DevicesNode } from './node';
import { pairingLinkFor, parsePairingLink } from './protocol';
import { deletePeer, loadPeers, savePeer, type PairedPeer } from './store';
import type { Devices, DevicesEvent, DevicesOptions } from './types';

/** How long a pairing secret stays valid. */
const SECRET_MS = 15 * 60_000;
/** Redial back-off: first wait, and the most it grows to. */
const REDIAL_FIRST_MS = 1000;
const REDIAL_MAX_MS = 30_000;
/** How long `pair` keeps trying to reach the other device. */
const PAIR_MS = 60_000;
/** Two links to one peer opened closer together than this crossed; older ones are stale. */
const CROSSED_MS = 3000;

function secret(): string {
  const b = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...b)).replaceAll('+', '-').replaceAll('/', '_');
}

/** Starts devices (libp2p node, reservation on the relay), then redials the remembered peers. */
export async function start(options: DevicesOptions & { relay: string }): Promise<Devices> {
  const node: DevicesNode = await startNode(options);
  const secrets = new Map<string, number>();
  const peers = new Map<string, PairedPeer>((await loadPeers()).map((p) => [p.id, p]));
  const links = new Map<string, DeviceLink>();
  const listeners = new Set<(e: DevicesEvent) => void>();
  const redials = new Map<string, ReturnType<typeof setTimeout>>();
  let stopped = false;

  const emit = (e: DevicesEvent): void => {
    for (const fn of listeners) fn(e);
  };

  /** The link both sides keep when two cross: the one the smaller peer id dialled. */
  const canonical = (l: DeviceLink): boolean => l.outbound === node.id < l.peer;

  const adopt = (link: DeviceLink): void => {
    const old = links.get(link.peer);
    if (old !== undefined) {
      if (link.openedAt - old.openedAt < CROSSED_MS && canonical(old) && !canonical(link)) {
        link.close();
        return;
      }
      // A new link replaces a stale one (its peer came back before the old one was noticed lost).
      old.drop();
    }
    links.set(link.peer, link);
    void link.ended.then((end) => {
      if (links.get(link.peer) === link) links.delete(link.peer);
      emit({ type: 'ended', peer: link.peer, end });
      if (end.reason === 'link-lost') scheduleRedial(link.peer, REDIAL_FIRST_MS);
    });
    emit({ type: 'link', link });
  };

  const remember = async (id: string, relay: string, name: string | undefined): Promise<void> => {
    const known = peers.get(id);
    const p: PairedPeer = { id, relay, pairedAt: known?.pairedAt ?? Date.now() };
    const given = name ?? known?.name;
    if (given !== undefined) p.name = given;
    peers.set(id, p);
    await savePeer(p);
    if (known === undefined) emit({ type: 'paired', peer: id });
  };

  /**
   * Dials `id` after `waitMs`, and again with a growing wait until a link is up. After a lost link
   * only the smaller id redials; a node that starts dials every paired peer itself (`first`) and
   * keeps at it, since a peer whose last link ended as closed does not dial back.
   */
  function scheduleRedial(id: string, waitMs: number, first = false): void {
    if (stopped || !(first || node.id < id) || !peers.has(id) || redials.has(id)) return;
    redials.set(
      id,
      setTimeout(() => {
        redials.delete(id);
        const p = peers.get(id);
        if (stopped || p === undefined || links.has(id)) return;
        node.dial(id, p.relay, undefined).then(adopt, (e: unknown) => {
          // A peer that forgot this one stays listed (the person decides) but is not pestered.
          if (e instanceof KernelError && e.code === 'remote/not-paired') return;
          scheduleRedial(id, Math.min(Math.max(waitMs * 2, REDIAL_FIRST_MS), REDIAL_MAX_MS), first);
        });
      }, waitMs),
    );
  }

  /**
   * A person's pairing gets a few tries within PAIR_MS: WebRTC's signalling through the relay
   * can time out on a slow network or a busy device. A refusal is final.
   */
  async function dialPatiently(peer: string, relay: string, secret: string): Promise<DeviceLink> {
    const deadline = Date.now() + PAIR_MS;
    for (;;) {
      try {
        return await node.dial(peer, relay, secret);
      } catch (e) {
        if (!(e instanceof KernelError) || e.code !== 'remote/dial-failed' || Date.now() + 1000 >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  node.onHello = async (peer, hello) => {
    const given = hello.secret;
    const expires = given === undefined ? undefined : secrets.get(given);
    // One use only, whatever the outcome (even by a peer paired already): a secret seen is spent.
    if (given !== undefined) secrets.delete(given);
    if (peers.has(peer)) return true;
    if (expires === undefined || expires < Date.now()) return false;
    await remember(peer, hello.relay ?? options.relay, hello.name);
    return true;
  };
  node.onLink = adopt;
  // A page that goes away says so, so its peers end the link as closed at once instead of
  // waiting for silence.
  const leaving = (): void => {
    for (const l of links.values()) l.close();
  };
  addEventListener('pagehide', leaving);

  for (const id of peers.keys()) scheduleRedial(id, 0, true);

  return {
    id: node.id,
    relay: options.relay,
    pairingLink() {
      const s = secret();
      const now = Date.now();
      for (const [k, t] of secrets) if (t < now) secrets.delete(k);
      secrets.set(s, now + SECRET_MS);
      const base = options.appUrl ?? location.href.split('#')[0] ?? location.href;
      return pairingLinkFor(base, { peer: node.id, relay: options.relay, secret: s });
    },
    async pair(text) {
      const parsed = parsePairingLink(text);
      if (parsed === undefined) throw new KernelError('remote/bad-pairing-link', 'this is not a webmk pairing link');
      if (parsed.peer === node.id) throw new KernelError('remote/bad-pairing-link', 'this pairing link is this device\'s own');
      const link = await dialPatiently(parsed.peer, parsed.relay, parsed.secret);
      await remember(parsed.peer, parsed.relay, link.name);
      adopt(link);
      return link;
    },
    async paired() {
      return [...peers.values()].map((p) => ({ ...p, connected: links.has(p.id) }));
    },
    async forget(id) {
      peers.delete(id);
      const t = redials.get(id);
      if (t !== undefined) clearTimeout(t);
      redials.delete(id);
      await deletePeer(id);
      links.get(id)?.close();
      emit({ type: 'forgotten', peer: id });
    },
    links(): Link[] {
      return [...links.values()];
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async stop() {
      stopped = true;
      removeEventListener('pagehide', leaving);
      for (const t of redials.values()) clearTimeout(t);
      redials.clear();
      for (const l of links.values()) l.close();
      await Promise.race([Promise.all([...links.values()].map((l) => l.ended)), new Promise((r) => setTimeout(r, 2000))]);
      await node.stop();
    },
  };
}
