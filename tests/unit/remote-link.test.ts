/**
 * The tabs link and the remote wire, in memory: messages arrive in order, acknowledgements pace
 * the sender (`writable()`), what was never acknowledged when a link ends is counted as
 * undelivered, and forged or malformed messages are refused by the parsers.
 */
import { describe, expect, it } from 'vitest';
import { TabLink } from '../../src/remote/tabs/tab-link';
import { parseTabMessage } from '../../src/remote/tabs/parse';
import { parseRemote } from '../../src/remote/parse';
import type { TabMessage } from '../../src/remote/tabs/wire';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

/** Two links wired to each other; `hold` keeps B's messages (its acks) from reaching A. */
function pair(): { a: TabLink; b: TabLink; hold: { on: boolean; held: TabMessage[] } } {
  const hold = { on: false, held: [] as TabMessage[] };
  let a: TabLink | undefined;
  let b: TabLink | undefined;
  a = new TabLink(A, B, 'b', (m) => b?.receive(parseOk(m)));
  b = new TabLink(B, A, 'a', (m) => (hold.on ? hold.held.push(m) : a?.receive(parseOk(m))));
  return { a, b, hold };
}

function parseOk(m: TabMessage): TabMessage {
  // What crosses is parsed as the channel would deliver it: a structured clone, unknown.
  const got = parseTabMessage(structuredClone(m));
  if (typeof got === 'string') throw new Error(got);
  return got;
}

const tick = (): Promise<void> => new Promise((ok) => setTimeout(ok, 5));

describe('tab link', () => {
  it('delivers in order and counts nothing undelivered once all is acknowledged', async () => {
    const { a, b } = pair();
    const got: unknown[] = [];
    b.onMessage = (m) => got.push(m);
    for (let i = 0; i < 100; i++) a.send({ i, data: new Uint8Array([i]) });
    await tick();
    expect(got.map((m) => (m as { i: number }).i)).toEqual([...Array(100).keys()]);
    a.close();
    expect(await a.ended).toEqual({ reason: 'local', undelivered: 0 });
    expect(await b.ended).toEqual({ reason: 'closed', undelivered: 0 });
    expect(() => a.send('late')).toThrow(expect.objectContaining({ code: 'remote/link-lost' }));
  });

  it('holds the sender while too much is unacknowledged, and counts it undelivered when the link is lost', async () => {
    const { a, hold } = pair();
    hold.on = true;
    for (let i = 0; i < 600; i++) a.send(i);
    let writable = false;
    void a.writable().then(() => (writable = true));
    await tick();
    expect(writable).toBe(false);
    // The acknowledgements arrive: the sender may go on.
    hold.on = false;
    for (const m of hold.held.splice(0)) a.receive(parseOk(m));
    await tick();
    expect(writable).toBe(true);
    hold.on = true;
    for (let i = 0; i < 7; i++) a.send(i);
    a.finish('link-lost');
    expect(await a.ended).toEqual({ reason: 'link-lost', undelivered: 7 });
  });

  it('acknowledges large messages at once, without waiting on a timer (a hidden tab waits a second for one)', async () => {
    const { a } = pair();
    for (let i = 0; i < 20; i++) a.send({ data: new Uint8Array(300 * 1024) });
    let writable = false;
    void a.writable().then(() => (writable = true));
    await Promise.resolve();
    expect(writable).toBe(true);
  });

  it('measures a round trip', async () => {
    const { a } = pair();
    a.ping();
    expect(a.rttMs).toBeGreaterThanOrEqual(0);
  });
});

describe('wire parsers', () => {
  it('refuse what is not addressed properly or not of the protocol', () => {
    for (const bad of [null, 1, 'x', [], { v: 2, type: 'hello', from: A, to: '*', name: '' }, { v: 1, type: 'nope', from: A, to: B }, { v: 1, type: 'hello', from: '*', to: B, name: 'x' }, { v: 1, type: 'data', from: A, to: B, seq: -1 }, { v: 1, type: 'ack', from: A, to: '__proto__', seq: 1 }]) {
      expect(typeof parseTabMessage(bad)).toBe('string');
    }
    expect(parseTabMessage({ v: 1, type: 'data', from: A, to: B, seq: 3, body: { x: 1 } })).toEqual({ v: 1, type: 'data', from: A, to: B, seq: 3, body: { x: 1 } });
  });

  it('remote messages: forged fields are remote/malformed, errors keep only well-formed codes', () => {
    const bad = [
      { v: 1, type: 'spawn', id: 1, spawn: { name: 'x', pid: 1, args: [1], env: [], tty: false, preopens: [], files: [] } },
      { v: 1, type: 'out', id: 1, fd: 3, data: new Uint8Array(1) },
      { v: 1, type: 'in', id: 1, data: 'text' },
      { v: 1, type: 'exit', id: 1, code: 0, reason: 'whatever' },
      { v: 1, type: 'credit', id: -1, fd: 0, bytes: 1 },
      { v: 1, type: '__proto__', id: 1 },
      { v: 9, type: 'kill', id: 1 },
      { v: 1, type: 'call', id: 1, module: 'm', fn: 'f', input: 'text', timeoutMs: 1000 },
      { v: 1, type: 'call', id: 1, module: 'm', fn: 'f', input: new Uint8Array(1), timeoutMs: 0 },
      { v: 1, type: 'call', id: 1, module: 'm', fn: 'f', input: new Uint8Array(1), timeoutMs: 10_000_000 },
      { v: 1, type: 'call', id: 1, module: 7, fn: 'f', input: new Uint8Array(1), timeoutMs: 1000 },
      { v: 1, type: 'called', id: 1, output: [1, 2] },
    ];
    for (const m of bad) expect(() => parseRemote(m)).toThrow(expect.objectContaining({ code: 'remote/malformed' }));
    const f = parseRemote({ v: 1, type: 'fail', id: 4, error: { code: 'NOT A CODE', message: 'm' } });
    expect(f).toMatchObject({ type: 'fail', error: { code: 'remote/refused' } });
    expect(parseRemote({ v: 1, type: 'exit', id: 2, code: 129, reason: 'link-lost' })).toMatchObject({ reason: 'link-lost' });
    expect(parseRemote({ v: 1, type: 'call', id: 3, module: 'm', fn: 'f', input: new Uint8Array([1]), timeoutMs: 500, extra: 1 })).toEqual({ v: 1, type: 'call', id: 3, module: 'm', fn: 'f', input: new Uint8Array([1]), timeoutMs: 500 });
    expect(parseRemote({ v: 1, type: 'called', id: 3, output: new Uint8Array([9]) })).toEqual({ v: 1, type: 'called', id: 3, output: new Uint8Array([9]) });
  });
});
