/**
 * The libp2p node in the page (loaded only when devices are turned on: index.ts imports this
 * file dynamically, so libp2p is its own chunk). It keeps a reservation on the relay so others
 * can reach it at `<relay>/p2p-circuit/webrtc/p2p/<id>`, and carries Links on `/webmk/link/1`
 * over direct WebRTC connections only (never the relayed one, which only carries signalling).
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, PrivateKey, Stream } from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { KernelError } from '../../common';
import { DeviceLink, LIVENESS } from './device-link';
import { FramedStream } from './framed-stream';
import { FrameKind, frame } from './frames';
import { decodeMessage, encodeMessage } from './codec';
import { LINK_PROTOCOL, parseHello, parseWelcome, type Hello, type Welcome } from './protocol';
import { loadIdentity, saveIdentity } from './store';
import type { DevicesOptions } from './types';

/** How long a handshake may take, each way. */
const HANDSHAKE_MS = 10_000;

/** The node as the devices controller (devices.ts) drives it. */
export interface DevicesNode {
  readonly id: string;
  /** Dials `peer` through `relay` and runs the handshake; resolves with the open link. */
  dial(peer: string, relay: string, secret: string | undefined, signal?: AbortSignal): Promise<DeviceLink>;
  /** Called for each stream a peer opens, after libp2p authenticated it: accept or refuse. */
  onHello: ((peer: string, hello: Hello) => Promise<boolean>) | undefined;
  /** Called for each link a peer opened and the handshake accepted. */
  onLink: ((link: DeviceLink) => void) | undefined;
  stop(): Promise<void>;
}

async function identity(): Promise<PrivateKey> {
  const stored = await loadIdentity();
  if (stored !== undefined) return privateKeyFromProtobuf(stored);
  const key = await generateKeyPair('Ed25519');
  await saveIdentity(privateKeyToProtobuf(key));
  return key;
}

function message(kind: (typeof FrameKind)['hello' | 'welcome'], v: unknown): Uint8Array {
  return frame(kind, encodeMessage(v));
}

/** A name for people when none is given: the browser and platform, as the page sees them. */
function defaultName(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chromium' : /Safari\//.test(ua) ? 'Safari' : 'browser';
  const platform = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return platform === '' ? browser : `${browser} on ${platform}`;
}

/** Waits until the relay holds a reservation for this node (its circuit address is listed). */
async function reserved(node: Libp2p, relay: string, timeoutMs: number): Promise<void> {
  const has = (): boolean => node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'));
  if (has()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      node.removeEventListener('self:peer:update', check);
      reject(new KernelError('remote/relay-unreachable', `the relay ${relay} gave no reservation in ${timeoutMs} ms`, { relay }));
    }, timeoutMs);
    function check(): void {
      if (!has()) return;
      clearTimeout(timer);
      node.removeEventListener('self:peer:update', check);
      resolve();
    }
    node.addEventListener('self:peer:update', check);
  });
}

/** Starts the node: identity from IndexedDB, a reservation on `options.relay`. */
export async function startNode(options: Required<Pick<DevicesOptions, 'relay'>> & DevicesOptions): Promise<DevicesNode> {
  let relayAddr;
  try {
    relayAddr = multiaddr(options.relay);
  } catch {
    throw new KernelError('kernel/bad-argument', `the relay address ${options.relay} is not a multiaddr`, { relay: options.relay });
  }
  const liveness = options.liveness ?? LIVENESS;
  const name = options.name ?? defaultName();
  const node = await createLibp2p({
    privateKey: await identity(),
    addresses: { listen: [`${relayAddr.toString()}/p2p-circuit`, '/webrtc'] },
    transports: [
      webSockets(),
      webRTC({
        rtcConfiguration: { iceServers: options.iceServers ?? [] },
        // Back-pressure reaches the Link's writable() instead of piling up 16 MiB per channel.
        dataChannel: { maxBufferedAmount: 4 * 1024 * 1024 },
      }),
      circuitRelayTransport(),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The relay is the person's choice, often on a private address or plain ws:// (a test, a LAN).
    connectionGater: { denyDialMultiaddr: () => false },
    // A WebRTC dial through a relay (signalling, ICE, DTLS) on a phone or a busy machine takes
    // longer than libp2p's defaults for one address (6 s) and an inbound upgrade (10 s) allow;
    // not much longer, though: a dial whose signalling stalled is better tried again (`pair`
    // and the redial do) than waited on.
    connectionManager: { dialTimeout: 15_000, addressDialTimeout: 12_000, inboundUpgradeTimeout: 20_000 },
    services: { identify: identify(), ping: ping() },
  });

  const api: DevicesNode = {
    id: node.peerId.toString(),
    onHello: undefined,
    onLink: undefined,
    dial: async (peer, relay, secret, signal) => {
      const addr = multiaddr(`${relay}/p2p-circuit/webrtc/p2p/${peer}`);
      let stream: Stream;
      try {
        stream = await node.dialProtocol(addr, LINK_PROTOCOL, { signal: signal ?? AbortSignal.timeout(30_000) });
      } catch (e) {
        throw new KernelError('remote/dial-failed', `cannot reach ${peer}: ${e instanceof Error ? e.message : String(e)}`, { peer });
      }
      const framed = new FramedStream(stream);
      const hello: Hello = { type: 'hello', v: 1, relay: options.relay, name };
      if (secret !== undefined) hello.secret = secret;
      framed.write(message(FrameKind.hello, hello));
      const f = await framed.next(HANDSHAKE_MS).catch(() => undefined);
      let welcome: Welcome | undefined;
      try {
        welcome = f?.kind === FrameKind.welcome ? parseWelcome(decodeMessage(f.payload)) : undefined;
      } catch {
        welcome = undefined;
      }
      if (welcome === undefined || !welcome.ok) {
        await framed.close();
        if (welcome === undefined) throw new KernelError('remote/dial-failed', `${peer} did not answer the handshake`, { peer });
        throw new KernelError('remote/not-paired', `${peer} refused: this device is not paired with it`, { peer });
      }
      return new DeviceLink(peer, true, framed, liveness, welcome.name);
    },
    stop: async () => {
      await node.stop();
    },
  };

  await node.handle(
    LINK_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      const peer = connection.remotePeer.toString();
      const framed = new FramedStream(stream);
      const f = await framed.next(HANDSHAKE_MS).catch(() => undefined);
      let hello: Hello | undefined;
      try {
        hello = f?.kind === FrameKind.hello ? parseHello(decodeMessage(f.payload)) : undefined;
      } catch {
        hello = undefined;
      }
      const ok = hello !== undefined && (await (api.onHello?.(peer, hello) ?? Promise.resolve(false)));
      if (!ok || hello === undefined) {
        framed.write(message(FrameKind.welcome, { type: 'welcome', v: 1, ok: false, code: 'remote/not-paired' }));
        // The stream ends here; the connection stays to libp2p (closing it under a peer that
        // is about to dial again makes that dial fail as unreachable instead of refused).
        await framed.close();
        return;
      }
      framed.write(message(FrameKind.welcome, { type: 'welcome', v: 1, ok: true, name }));
      api.onLink?.(new DeviceLink(peer, false, framed, liveness, hello.name));
    },
    { runOnLimitedConnection: false },
  );

  try {
    await reserved(node, options.relay, options.relayTimeoutMs ?? 20_000);
  } catch (e) {
    await node.stop();
    throw e;
  }
  return api;
}
