/**
 * The device link's pure parts: the message encoding (every value the Link contract allows,
 * and hostile bytes refused), frames cut anywhere, and a DeviceLink pair over in-memory
 * streams (order, undelivered counts, close, silence as link-lost).
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, MAX_DEPTH } from '../../src/remote/devices/codec';
import { DeviceLink } from '../../src/remote/devices/device-link';
import { FramedStream, type ByteStream } from '../../src/remote/devices/framed-stream';
import { FrameKind, FrameReader, frame } from '../../src/remote/devices/frames';
import { parseHello, parsePairingLink, parseWelcome, pairingLinkFor } from '../../src/remote/devices/protocol';

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('link message encoding', () => {
  it('round-trips JSON values with Uint8Arrays anywhere', () => {
    const v = { a: [1, -2.5, 0, null, true, false, 'ünï ✓'], b: new Uint8Array([1, 2, 3]), c: { d: [new Uint8Array(0)] }, '': 'empty key' };
    expect(decodeMessage(encodeMessage(v))).toEqual(v);
    expect(decodeMessage(encodeMessage('x'))).toBe('x');
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 1 });
    expect(decodeMessage(encodeMessage(bare))).toEqual({ k: 1 });
  });

  it('keeps __proto__ as a plain own key, never a prototype', () => {
    const v = JSON.parse('{"__proto__": {"polluted": 1}}') as unknown;
    const back = decodeMessage(encodeMessage(v)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses to send what the contract does not allow', () => {
    expect(codeOf(() => encodeMessage(Number.NaN))).toBe('kernel/bad-argument');
    expect(codeOf(() => encodeMessage(new Map()))).toBe('kernel/bad-argument');
    expect(codeOf(() => encodeMessage(() => 1))).toBe('kernel/bad-argument');
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH + 1; i++) deep = [deep];
    expect(codeOf(() => encodeMessage(deep))).toBe('kernel/bad-argument');
  });

  it('refuses hostile bytes: unknown tags, lying lengths, trailing bytes, bad UTF-8', () => {
    expect(codeOf(() => decodeMessage(new Uint8Array([99])))).toBe('ipc/malformed');
    expect(codeOf(() => decodeMessage(new Uint8Array([6, 0xff, 0xff, 0xff, 0xff])))).toBe('ipc/malformed');
    expect(codeOf(() => decodeMessage(new Uint8Array([4, 0, 0, 0, 9, 1])))).toBe('ipc/malformed');
    expect(codeOf(() => decodeMessage(new Uint8Array([0, 0])))).toBe('ipc/malformed');
    expect(codeOf(() => decodeMessage(new Uint8Array([4, 0, 0, 0, 1, 0xff])))).toBe('ipc/malformed');
    expect(codeOf(() => decodeMessage(new Uint8Array(0)))).toBe('ipc/malformed');
  });
});

describe('frames', () => {
  it('reassembles frames from chunks cut at every byte', () => {
    const bytes = new Uint8Array([...frame(FrameKind.message, new Uint8Array([1, 2, 3])), ...frame(FrameKind.ack, new Uint8Array(8))]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = new FrameReader();
      const got = [...r.push(bytes.slice(0, cut)), ...r.push(bytes.slice(cut))];
      expect(got.map((f) => [f.kind, [...f.payload]])).toEqual([
        [FrameKind.message, [1, 2, 3]],
        [FrameKind.ack, [0, 0, 0, 0, 0, 0, 0, 0]],
      ]);
    }
  });

  it('refuses a length past the limit instead of waiting for it', () => {
    expect(codeOf(() => new FrameReader().push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0])))).toBe('ipc/too-large');
    expect(codeOf(() => new FrameReader().push(new Uint8Array([0, 0, 0, 0])))).toBe('ipc/malformed');
  });
});

describe('handshake', () => {
  it('accepts a hello and a welcome with a short name, and refuses a long or odd one', () => {
    expect(parseHello({ type: 'hello', v: 1, secret: 's', relay: '/ip4/1.2.3.4', name: 'laptop' })).toEqual({ type: 'hello', v: 1, secret: 's', relay: '/ip4/1.2.3.4', name: 'laptop' });
    expect(parseHello({ type: 'hello', v: 1, name: 'x'.repeat(65) })).toBeUndefined();
    expect(parseHello({ type: 'hello', v: 2 })).toBeUndefined();
    expect(parseHello({ type: 'hello', v: 1, relay: 'no-slash' })).toBeUndefined();
    expect(parseWelcome({ type: 'welcome', v: 1, ok: true, name: 'phone' })).toEqual({ type: 'welcome', v: 1, ok: true, name: 'phone' });
    expect(parseWelcome({ type: 'welcome', v: 1, ok: false, code: 'remote/not-paired' })).toMatchObject({ ok: false });
    expect(parseWelcome({ type: 'welcome', v: 1, ok: false, code: 'other' })).toBeUndefined();
    expect(parseWelcome({ type: 'welcome', v: 1, ok: true, name: 7 })).toBeUndefined();
  });
});

describe('pairing links', () => {
  it('carry peer id, relay and secret in the fragment, and nothing else parses', () => {
    const peer = '12D3KooWDHXJvYLw5wGLKBfvRCXmQGD8YdytqQPDCDLuzpb5FNhJ';
    const link = { peer, relay: '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWQLewTgJtCvAj52ziaCDMmoeaLPhi6cUCx5Bm4eV51d9K', secret: 'abcdefghijklmnopqrstuvwx' };
    const url = pairingLinkFor('https://example.org/app/?x=1', link);
    expect(url.startsWith('https://example.org/app/?x=1#pair=')).toBe(true);
    expect(parsePairingLink(url)).toEqual(link);
    expect(parsePairingLink('not a url')).toBeUndefined();
    expect(parsePairingLink(url.replace('secret=', 'secret=!'))).toBeUndefined();
    expect(parsePairingLink('https://example.org/#pair=x&relay=/a&secret=abcdefghijklmnopqrstuvwx')).toBeUndefined();
  });
});

type Listener = (e: { data: { subarray(): Uint8Array } }) => void;

/** Two ByteStreams joined in memory; `cut()` makes both go silent (a vanished peer). */
function pipePair(): { a: ByteStream; b: ByteStream; cut(): void } {
  let silent = false;
  const make = (): ByteStream & { msg: Listener[]; closeFns: Array<() => void>; other?: ByteStream & { msg: Listener[]; closeFns: Array<() => void> } } => {
    const s = {
      msg: [] as Listener[],
      closeFns: [] as Array<() => void>,
      other: undefined as undefined | (ByteStream & { msg: Listener[]; closeFns: Array<() => void> }),
      send(data: Uint8Array) {
        const copy = data.slice();
        setTimeout(() => {
          if (!silent) for (const fn of s.other?.msg ?? []) fn({ data: copy });
        }, 0);
        return true;
      },
      onDrain: () => Promise.resolve(),
      close: async () => {
        setTimeout(() => {
          for (const fn of [...s.closeFns, ...(silent ? [] : (s.other?.closeFns ?? []))]) fn();
        }, 1);
      },
      abort: () => {
        for (const fn of [...s.closeFns, ...(silent ? [] : (s.other?.closeFns ?? []))]) fn();
      },
      addEventListener(type: 'message' | 'close', fn: Listener | (() => void)) {
        if (type === 'message') s.msg.push(fn as Listener);
        else s.closeFns.push(fn as () => void);
      },
    };
    return s as never;
  };
  const a = make();
  const b = make();
  a.other = b;
  b.other = a;
  return { a, b, cut: () => (silent = true) };
}

describe('DeviceLink over a stream pair', () => {
  const fast = { heartbeatMs: 20, lostAfterMs: 150 };

  it('delivers in order both ways, and a close ends as local here and closed there with nothing undelivered', async () => {
    const p = pipePair();
    const x = new DeviceLink('peer-b', true, new FramedStream(p.a), fast);
    const y = new DeviceLink('peer-a', false, new FramedStream(p.b), fast);
    const got: unknown[] = [];
    y.onMessage = (m) => {
      got.push(m);
      y.send({ echo: m });
    };
    const back: unknown[] = [];
    const done = new Promise<void>((r) => {
      x.onMessage = (m) => {
        back.push(m);
        if (back.length === 100) r();
      };
    });
    for (let i = 0; i < 100; i++) x.send(i);
    await done;
    expect(got).toEqual([...Array(100).keys()]);
    expect(back[99]).toEqual({ echo: 99 });
    // Heartbeats measure the round trip.
    await new Promise((r) => setTimeout(r, 100));
    expect(x.rttMs).toBeGreaterThanOrEqual(0);
    expect(x.rttMs).toBeLessThan(100);
    x.close();
    expect(() => x.send(1)).toThrow(expect.objectContaining({ code: 'remote/link-lost' }));
    expect(await x.ended).toEqual({ reason: 'local', undelivered: 0 });
    expect(await y.ended).toEqual({ reason: 'closed', undelivered: 0 });
  });

  it('a peer gone silent ends the link as link-lost, counting what it never acknowledged', async () => {
    const p = pipePair();
    const x = new DeviceLink('peer-b', true, new FramedStream(p.a), fast);
    const y = new DeviceLink('peer-a', false, new FramedStream(p.b), fast);
    y.onMessage = () => {};
    p.cut();
    x.send('lost 1');
    x.send('lost 2');
    const end = await x.ended;
    expect(end.reason).toBe('link-lost');
    expect(end.undelivered).toBe(2);
    expect((await y.ended).reason).toBe('link-lost');
  });

  it('a peer that sends bytes that are no message ends the link', async () => {
    const p = pipePair();
    const x = new DeviceLink('peer-b', true, new FramedStream(p.a), fast);
    p.b.send(frame(FrameKind.message, new Uint8Array([99])));
    expect((await x.ended).reason).toBe('link-lost');
  });
});
