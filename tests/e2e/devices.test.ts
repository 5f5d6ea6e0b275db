/**
 * Devices, offline: two Chromium processes (two devices) and a relay on 127.0.0.1, all inside a
 * network namespace this test makes (netns.ts). Pairing by link, messages both ways, 32 MiB with
 * a checksum and back-pressure, an unpaired peer refused, a clean close and the redial, and a
 * killed browser noticed as `link-lost`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchDevice, startWorld, turnOn, waitEvent, type Device, type DeviceWorld } from './device-helpers';
import { makeNamespace, namespaceUnavailable, type Namespace } from './netns';

const unavailable = namespaceUnavailable();
if (unavailable !== undefined) console.warn(`devices e2e SKIPPED: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`devices over libp2p${unavailable !== undefined ? ` (skipped: ${unavailable})` : ''}`, () => {
  let ns: Namespace;
  let world: DeviceWorld;
  let a: Device;
  let b: Device;
  let idA = '';
  let idB = '';
  /** The pairing link b used: its secret is spent. */
  let used = '';

  beforeAll(async () => {
    ns = await makeNamespace();
    world = await startWorld(ns);
    [a, b] = await Promise.all([launchDevice(ns, world.url, 'a'), launchDevice(ns, world.url, 'b')]);
    [idA, idB] = await Promise.all([turnOn(a.page, world.relay), turnOn(b.page, world.relay)]);
  }, 240_000);

  afterAll(async () => {
    await a?.browser.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    ns?.close();
  });

  it('pairs by link and carries messages both ways, bytes and awkward keys intact', async () => {
    const link = await a.page.evaluate(() => window.webmkDevices.current?.pairingLink() ?? '');
    expect(link).toContain(`pair=${idA}`);
    used = link;
    const peer = await b.page.evaluate(async (l) => (await window.webmkDevices.current!.pair(l)).peer, link);
    expect(peer).toBe(idA);
    await waitEvent(a.page, 'link', idB);
    // A echoes whatever arrives.
    await a.page.evaluate((p) => {
      const l = window.webmkDevices.current!.links().find((x) => x.peer === p)!;
      l.onMessage = (m) => l.send(m);
    }, idB);
    const back = await b.page.evaluate(async (p) => {
      const l = window.webmkDevices.current!.links().find((x) => x.peer === p)!;
      const got: unknown[] = [];
      const done = new Promise<void>((r) => {
        l.onMessage = (m) => {
          got.push(m);
          if (got.length === 3) r();
        };
      });
      const proto = JSON.parse('{"__proto__": {"polluted": true}, "x": [1, 2.5, null, false]}') as unknown;
      l.send({ hello: 'from b', n: 1, bytes: new Uint8Array([0, 1, 255]) });
      l.send(proto);
      l.send([new Uint8Array(0), 'ünïcode ✓', { nested: { deep: true } }]);
      await done;
      const first = got[0] as { hello: string; n: number; bytes: Uint8Array };
      const second = got[1] as Record<string, unknown>;
      return {
        hello: first.hello,
        n: first.n,
        bytes: first.bytes instanceof Uint8Array ? [...first.bytes] : 'not bytes',
        protoIsData: Object.getPrototypeOf(second) === Object.prototype && Object.hasOwn(second, '__proto__'),
        polluted: ({} as Record<string, unknown>).polluted === true,
        third: JSON.stringify(got[2], (_k, v: unknown) => (v instanceof Uint8Array ? `bytes:${v.length}` : v)),
      };
    }, idA);
    expect(back).toEqual({
      hello: 'from b',
      n: 1,
      bytes: [0, 1, 255],
      protoIsData: true,
      polluted: false,
      third: JSON.stringify(['bytes:0', 'ünïcode ✓', { nested: { deep: true } }]),
    });
    // The heartbeats measure the round trip (the Nodes view shows it).
    await a.page.waitForFunction(() => typeof (window.webmkDevices.current?.links()[0] as { rttMs?: number } | undefined)?.rttMs === 'number', undefined, { timeout: 10_000 });
    expect(await a.page.evaluate(async () => (await window.webmkDevices.current!.paired()).map((d) => d.id))).toEqual([idB]);
    expect(await b.page.evaluate(async () => (await window.webmkDevices.current!.paired()).map((d) => [d.connected, d.name]))).toEqual([[true, 'Chromium on Linux']]);
    expect(await a.page.evaluate(() => (window.webmkDevices.current!.links()[0] as { name?: string }).name)).toBe('Chromium on Linux');
  }, 90_000);

  it('moves 32 MiB from b to a with a matching checksum, waiting on writable()', async () => {
    // A sums what arrives (FNV-1a over every byte) and answers once it has all of it.
    await a.page.evaluate((p) => {
      const l = window.webmkDevices.current!.links().find((x) => x.peer === p)!;
      let h = 0x811c9dc5;
      let bytes = 0;
      l.onMessage = (m) => {
        if (m instanceof Uint8Array) {
          for (let i = 0; i < m.length; i++) h = Math.imul(h ^ (m[i] ?? 0), 16777619) >>> 0;
          bytes += m.length;
        } else if (m === 'end') l.send({ bytes, sum: h });
      };
    }, idB);
    const result = await b.page.evaluate(async (p) => {
      const l = window.webmkDevices.current!.links().find((x) => x.peer === p)!;
      const answer = new Promise<unknown>((r) => (l.onMessage = r));
      const CHUNK = 64 * 1024;
      const chunks = 512;
      let h = 0x811c9dc5;
      let seed = 12345;
      let waits = 0;
      const t0 = performance.now();
      for (let c = 0; c < chunks; c++) {
        const m = new Uint8Array(CHUNK);
        for (let i = 0; i < CHUNK; i++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          m[i] = seed >>> 24;
          h = Math.imul(h ^ (m[i] ?? 0), 16777619) >>> 0;
        }
        let pending = true;
        const ready = l.writable().then(() => (pending = false));
        await Promise.resolve();
        if (pending) waits++;
        await ready;
        l.send(m);
      }
      l.send('end');
      const got = (await answer) as { bytes: number; sum: number };
      return { sent: chunks * CHUNK, sum: h, got, waits, ms: performance.now() - t0 };
    }, idA);
    expect(result.got).toEqual({ bytes: result.sent, sum: result.sum });
    expect(result.sent).toBe(32 * 1024 * 1024);
    // The sender outran the link at least once and was held back rather than queueing 32 MiB.
    expect(result.waits).toBeGreaterThan(0);
    console.log(`devices: 32 MiB in ${result.ms.toFixed(0)} ms (${(32 / (result.ms / 1000)).toFixed(1)} MB/s), writable() waited ${result.waits} times`);
  }, 180_000);

  it('refuses a peer that is not paired: a wrong secret, and a secret already spent', async () => {
    const c = await launchDevice(ns, world.url, 'c');
    try {
      const idC = await turnOn(c.page, world.relay);
      const fresh = await a.page.evaluate(() => window.webmkDevices.current!.pairingLink());
      const forged = fresh.replace(/secret=[\w-]+/, 'secret=AAAAAAAAAAAAAAAAAAAAAAAA');
      const codes = await c.page.evaluate(async (links) => {
        const out: string[] = [];
        for (const l of links) {
          try {
            await window.webmkDevices.current!.pair(l);
            out.push('paired');
          } catch (e) {
            const err = e as { code?: string; message?: string };
            out.push(err.code === 'remote/not-paired' ? err.code : `${err.code}: ${err.message}`);
          }
        }
        return out;
      }, [forged, used]);
      expect(codes).toEqual(['remote/not-paired', 'remote/not-paired']);
      const events = await a.page.evaluate(() => (window as unknown as { deviceEvents: Array<{ type: string; peer?: string }> }).deviceEvents);
      expect(events.filter((e) => e.peer === idC)).toEqual([]);
      expect(await a.page.evaluate(async () => (await window.webmkDevices.current!.paired()).length)).toBe(1);
    } finally {
      await c.browser.close();
    }
  }, 90_000);

  it('a closed link ends as closed on the other side, and the paired devices redial', async () => {
    await b.page.evaluate(() => window.webmkDevices.stop());
    await waitEvent(a.page, 'ended', idB);
    const ended = await a.page.evaluate(
      (p) => (window as unknown as { deviceEvents: Array<{ type: string; peer?: string; reason?: string; undelivered?: number }> }).deviceEvents.filter((e) => e.type === 'ended' && e.peer === p),
      idB,
    );
    expect(ended[0]).toMatchObject({ reason: 'closed', undelivered: 0 });
    await turnOn(b.page, world.relay);
    // Whichever has the smaller peer id redials; both see the link come back.
    await waitEvent(a.page, 'link', idB, 2, 60_000);
    await waitEvent(b.page, 'link', idA, 1, 60_000);
  }, 120_000);

  it('a reloaded page turns devices on again by itself, and its paired device reconnects', async () => {
    const links = (p: string) =>
      a.page.evaluate((peer) => (window as unknown as { deviceEvents: Array<{ type: string; peer?: string }> }).deviceEvents.filter((e) => e.type === 'link' && e.peer === peer).length, p);
    const before = await links(idB);
    await b.page.reload();
    await b.page.waitForFunction(() => window.webmkDevices?.current?.links().length === 1, undefined, { timeout: 60_000, polling: 100 });
    await waitEvent(a.page, 'link', idB, before + 1, 60_000);
    // The page that went away said so: its old link ended as closed, or was replaced (lost).
    const ends = await a.page.evaluate(
      (p) => (window as unknown as { deviceEvents: Array<{ type: string; peer?: string; reason?: string }> }).deviceEvents.filter((e) => e.type === 'ended' && e.peer === p).map((e) => e.reason),
      idB,
    );
    expect(['closed', 'link-lost']).toContain(ends.at(-1));
    expect(await b.page.evaluate(() => window.webmkDevices.current?.id)).toBe(idB);
  }, 120_000);

  it('a killed browser is noticed as link-lost, with the undelivered count', async () => {
    const before = await a.page.evaluate(
      (p) => (window as unknown as { deviceEvents: Array<{ type: string; peer?: string }> }).deviceEvents.filter((e) => e.type === 'ended' && e.peer === p).length,
      idB,
    );
    const t0 = Date.now();
    b.kill();
    await waitEvent(a.page, 'ended', idB, before + 1, 30_000);
    const last = await a.page.evaluate(
      (p) => (window as unknown as { deviceEvents: Array<{ type: string; peer?: string; reason?: string; undelivered?: number }> }).deviceEvents.filter((e) => e.type === 'ended' && e.peer === p).at(-1),
      idB,
    );
    expect(last?.reason).toBe('link-lost');
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(typeof last?.undelivered).toBe('number');
    console.log(`devices: a killed browser noticed in ${Date.now() - t0} ms`);
  }, 60_000);
});
