#!/usr/bin/env node
/**
 * `npm run relay -- [--port N] [--host H] [--key FILE]`: a js-libp2p circuit-relay-v2 server on
 * WebSockets, where webmk devices meet before WebRTC connects them directly. It prints its
 * multiaddr (the "relay address" a person enters in webmk's Devices settings) as one line:
 *   relay /ip4/127.0.0.1/tcp/N/ws/p2p/<peer id>
 * and, for scripts, one JSON line `{"relay": "<multiaddr>"}` on stdout. Plain ws:// on 127.0.0.1
 * by default; for real use put it behind a TLS reverse proxy (README, "Devices and the relay").
 * With --key FILE its identity (and so its address) survives restarts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

// libp2p 3.x calls Promise.withResolvers, which Node has from 22; the project supports 20.19.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    return { promise, resolve, reject };
  };
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    key: { type: 'string' },
    // The multiaddr browsers should dial, when a proxy fronts the relay (e.g. /dns4/relay.example.org/tcp/443/wss).
    announce: { type: 'string' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`relay: --port must be a port number, not ${values.port}`);
  process.exit(2);
}

const [{ createLibp2p }, { webSockets }, { noise }, { yamux }, { identify }, { ping }, { circuitRelayServer }, keys] =
  await Promise.all([
    import('libp2p'),
    import('@libp2p/websockets'),
    import('@chainsafe/libp2p-noise'),
    import('@chainsafe/libp2p-yamux'),
    import('@libp2p/identify'),
    import('@libp2p/ping'),
    import('@libp2p/circuit-relay-v2'),
    import('@libp2p/crypto/keys'),
  ]);

/** The relay's key: from --key FILE (made there on first run), else a fresh one. */
async function loadKey() {
  if (values.key === undefined) return keys.generateKeyPair('Ed25519');
  if (existsSync(values.key)) return keys.privateKeyFromProtobuf(readFileSync(values.key));
  const key = await keys.generateKeyPair('Ed25519');
  writeFileSync(values.key, keys.privateKeyToProtobuf(key), { mode: 0o600 });
  return key;
}

const ip = values.host.includes(':') ? 'ip6' : 'ip4';
const node = await createLibp2p({
  privateKey: await loadKey(),
  addresses: {
    listen: [`/${ip}/${values.host}/tcp/${port}/ws`],
    announce: values.announce === undefined ? [] : [values.announce],
  },
  transports: [webSockets()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  // Browsers on private addresses and plain ws:// are who this relay serves.
  connectionGater: { denyDialMultiaddr: () => false },
  connectionManager: { maxConnections: 1024 },
  services: {
    identify: identify(),
    ping: ping(),
    // Relayed connections only carry WebRTC's signalling (a few KB) before the peers connect
    // directly, so the default data and time limits stay on.
    relay: circuitRelayServer({ reservations: { maxReservations: 1024 } }),
  },
});

const address = node.getMultiaddrs()[0]?.toString();
if (address === undefined) {
  console.error('relay: no listening address');
  process.exit(1);
}
console.log(`relay ${address}`);
console.log(JSON.stringify({ relay: address }));

async function stop() {
  await node.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
