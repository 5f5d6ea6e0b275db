/**
 * Updates under load (issue 10 part 6, ADR 0023): a newer version of a package installed while
 * its modules run. A supervised bus echo moves onto it under the same pid while a stream of
 * numbered messages flows, losing none; a service finishes the call it is in on the old version
 * and serves the next on the new one; an unsupervised process stays on the old bytes, which are
 * dropped once it ends.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { makePackage, newKey, type TestKey } from './package-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
let publisher: TestKey;

interface Probe {
  __got: string[];
  __sent: number;
  __stop: boolean;
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  publisher = newKey();
  await page.evaluate((k) => window.kernel.trust.add(k, { label: 'test publisher' }), publisher.publicKey);
});

// A test that failed half-way leaves nothing running for the next one to hear.
afterEach(async () => {
  await page.evaluate(async () => {
    for (const p of window.kernel.processes()) if (p.state !== 'exited') await window.kernel.kill(p.pid).catch(() => undefined);
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The `upd` package: the echo and the service, both at version `v` (their bytes say which). */
function updPackage(version: string, bytesOf: 1 | 2): number[] {
  return makePackage({ name: 'upd', version, modules: { updecho: `updecho-v${bytesOf}`, updsvc: `updsvc-v${bytesOf}` } }, publisher);
}

function installUpd(version: string, bytesOf: 1 | 2): Promise<void> {
  return page.evaluate(async (b) => {
    await window.kernel.install(new Uint8Array(b), { grant: 'all' });
  }, updPackage(version, bytesOf));
}

/** The hashes whose bytes the registry stores. */
function storedHashes(): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((ok, fail) => {
        const req = indexedDB.open('webmk');
        req.onsuccess = () => {
          const keys = req.result.transaction('blobs').objectStore('blobs').getAllKeys();
          keys.onsuccess = () => {
            ok(keys.result.map(String));
            req.result.close();
          };
          keys.onerror = () => fail(keys.error);
        };
        req.onerror = () => fail(req.error);
      }),
  );
}

function moduleHash(name: string): Promise<string> {
  return page.evaluate(async (n) => (await window.kernel.modules()).find((m) => m.name === n)?.sha256 ?? '', name);
}

function row(pid: number): Promise<{ state: string; incarnation: number; version?: string; sha256?: string; updatePending?: string } | undefined> {
  return page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p), pid);
}

describe('a supervised bus echo under a stream of messages', () => {
  it('moves onto the new version under its pid, and its consumer receives every number', async () => {
    await installUpd('1.0.0', 1);
    const v1 = await moduleHash('updecho');
    const pid = await page.evaluate(async () => {
      const w = window as unknown as Probe;
      w.__got = [];
      window.kernel.bus.subscribe('upd/out', (d) => w.__got.push(new TextDecoder().decode(d)));
      const p = await window.kernel.spawn('updecho', { restart: { restart: 'permanent' } });
      return p.pid;
    });
    // The echo is subscribed once its first reply comes back.
    await page.waitForFunction(() => {
      const w = window as unknown as Probe;
      window.kernel.bus.publish('upd/in', 'ping');
      return w.__got.includes('v1 ping');
    }, undefined, { polling: 50 });
    // The publisher: bursts of numbered messages, one burst per macrotask, until told to stop
    // (bursts keep the echo busy: it must be moved while parked, not while it holds one).
    await page.evaluate(() => {
      const w = window as unknown as Probe;
      w.__got = [];
      w.__sent = 0;
      w.__stop = false;
      const tick = (): void => {
        if (w.__stop) return;
        for (let i = 0; i < 10; i++) window.kernel.bus.publish('upd/in', String(w.__sent++));
        setTimeout(tick, 1);
      };
      tick();
    });
    await page.waitForFunction(() => (window as unknown as Probe).__got.length >= 200);
    await installUpd('2.0.0', 2);
    const v2 = await moduleHash('updecho');
    expect(v2).not.toBe(v1);
    // Replies from the new version keep coming under the stream, then the stream stops.
    await page.waitForFunction(() => (window as unknown as Probe).__got.filter((g) => g.startsWith('v2 ')).length >= 200);
    const sent = await page.evaluate(() => {
      const w = window as unknown as Probe;
      w.__stop = true;
      return w.__sent;
    });
    // A readiness ping published just before the stream began may be answered after it began.
    const numbered = (): Promise<string[]> => page.evaluate(() => (window as unknown as Probe).__got.filter((g) => !g.endsWith(' ping')));
    await page.waitForFunction((n) => (window as unknown as Probe).__got.filter((g) => !g.endsWith(' ping')).length >= n, sent);
    const got = await numbered();
    // Every number once, in order; the old version answered up to the switch, the new one after.
    expect(got.map((g) => Number(g.split(' ')[1]))).toEqual([...Array(sent).keys()]);
    const firstV2 = got.findIndex((g) => g.startsWith('v2 '));
    expect(firstV2).toBeGreaterThan(0);
    expect(got.slice(firstV2).every((g) => g.startsWith('v2 '))).toBe(true);
    expect(got.slice(0, firstV2).every((g) => g.startsWith('v1 '))).toBe(true);
    // Same pid, its next incarnation, on the new version; kernel.packages() says which runs.
    const r = await row(pid);
    expect(r).toMatchObject({ state: 'running', incarnation: 2, version: '2.0.0', sha256: v2 });
    expect(r?.updatePending).toBeUndefined();
    const running = await page.evaluate(async () => (await window.kernel.packages()).find((p) => p.name === 'upd')?.modules.find((m) => m.name === 'updecho')?.running);
    expect(running).toEqual([{ pid, version: '2.0.0', sha256: v2 }]);
    // Nothing runs the old bytes any more: the registry dropped them.
    await page.waitForFunction(async (h) => {
      const req = indexedDB.open('webmk');
      await new Promise((ok) => (req.onsuccess = ok));
      const n = await new Promise<number>((ok) => {
        const c = req.result.transaction('blobs').objectStore('blobs').count(h);
        c.onsuccess = () => ok(c.result);
      });
      req.result.close();
      return n === 0;
    }, v1);
    expect(await storedHashes()).toContain(v2);
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });
});

describe('a supervised bus echo busy with a message', () => {
  it('answers it on the old version, and moves only once it is parked again', async () => {
    await installUpd('1.0.0', 1);
    const pid = await page.evaluate(async () => {
      const w = window as unknown as Probe;
      w.__got = [];
      return (await window.kernel.spawn('updecho', { restart: { restart: 'permanent' } })).pid;
    });
    await page.waitForFunction(() => {
      window.kernel.bus.publish('upd/in', 'ping');
      return (window as unknown as Probe).__got.includes('v1 ping');
    }, undefined, { polling: 50 });
    const taken = (): Promise<number> => page.evaluate(() => window.kernel.bus.stats().subscriptions.find((s) => s.pattern === 'upd/in' && s.name === 'updecho')?.delivered ?? -1);
    const before = await taken();
    // It takes the message, then sleeps on it: the update comes while it holds it.
    await page.evaluate(() => window.kernel.bus.publish('upd/in', 'sleep 3000'));
    await page.waitForFunction((n) => (window.kernel.bus.stats().subscriptions.find((s) => s.pattern === 'upd/in' && s.name === 'updecho')?.delivered ?? -1) > n, before);
    await installUpd('2.0.0', 2);
    await page.evaluate(() => window.kernel.bus.publish('upd/in', 'after'));
    await page.waitForFunction(() => (window as unknown as Probe).__got.includes('v2 after'));
    const got = await page.evaluate(() => (window as unknown as Probe).__got.filter((g) => g !== 'v1 ping'));
    expect(got).toEqual(['v1 sleep 3000', 'v2 after']);
    expect(await row(pid)).toMatchObject({ state: 'running', incarnation: 2, version: '2.0.0' });
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });
});

describe('a service in the middle of a call', () => {
  it('finishes that call on the old version and serves the next on the new one, under its pid', async () => {
    await installUpd('1.0.0', 1);
    expect(await page.evaluate(async () => new TextDecoder().decode(await window.kernel.call('updsvc', 'version')))).toBe('v1');
    // A call that waits for a message on upd/go: it is in progress once its subscription shows.
    await page.evaluate(() => {
      const w = window as unknown as { __call: Promise<string> };
      w.__call = window.kernel.call('updsvc', 'version', 'wait', { timeoutMs: 60_000 }).then((b) => new TextDecoder().decode(b));
    });
    await page.waitForFunction(() => window.kernel.bus.stats().subscriptions.some((s) => s.pattern === 'upd/go' && s.name === 'updsvc'));
    const pid = await page.evaluate(() => window.kernel.processes().find((p) => p.name === 'updsvc' && p.state === 'running')?.pid ?? 0);
    await installUpd('2.0.0', 2);
    // Still on the old version, the new one waiting for the call to end.
    expect(await row(pid)).toMatchObject({ state: 'running', version: '1.0.0', updatePending: '2.0.0' });
    await page.evaluate(() => window.kernel.bus.publish('upd/go', 'go'));
    expect(await page.evaluate(() => (window as unknown as { __call: Promise<string> }).__call)).toBe('v1');
    expect(await page.evaluate(async () => new TextDecoder().decode(await window.kernel.call('updsvc', 'version')))).toBe('v2');
    expect(await row(pid)).toMatchObject({ state: 'running', version: '2.0.0' });
  });
});

describe('a process that is not supervised', () => {
  it('keeps running on the old bytes until it ends; then they are dropped', async () => {
    await installUpd('1.0.0', 1);
    const v1 = await moduleHash('updecho');
    const pid = await page.evaluate(async () => {
      const w = window as unknown as Probe;
      w.__got = [];
      return (await window.kernel.spawn('updecho')).pid;
    });
    await page.waitForFunction(() => {
      window.kernel.bus.publish('upd/in', 'a');
      return (window as unknown as Probe).__got.includes('v1 a');
    }, undefined, { polling: 50 });
    await installUpd('2.0.0', 2);
    const v2 = await moduleHash('updecho');
    await page.evaluate(() => {
      (window as unknown as Probe).__got = [];
      window.kernel.bus.publish('upd/in', 'b');
    });
    await page.waitForFunction(() => (window as unknown as Probe).__got.includes('v1 b'));
    expect(await row(pid)).toMatchObject({ state: 'running', incarnation: 1, version: '1.0.0' });
    const running = await page.evaluate(async () => (await window.kernel.packages()).find((p) => p.name === 'upd')?.modules.find((m) => m.name === 'updecho'));
    expect(running).toMatchObject({ version: '2.0.0', running: [{ pid: pid, version: '1.0.0', sha256: v1 }] });
    // Both versions' bytes are stored while it runs, the old one alone once it ended.
    const stored = await storedHashes();
    expect(stored).toContain(v1);
    expect(stored).toContain(v2);
    await page.evaluate((p) => window.kernel.kill(p), pid);
    await page.waitForFunction(async (h) => {
      const req = indexedDB.open('webmk');
      await new Promise((ok) => (req.onsuccess = ok));
      const n = await new Promise<number>((ok) => {
        const c = req.result.transaction('blobs').objectStore('blobs').count(h);
        c.onsuccess = () => ok(c.result);
      });
      req.result.close();
      return n === 0;
    }, v1);
    // The compiled code goes just after the bytes (the sweep follows the delete).
    await page.waitForFunction(() => window.kernel.resources().catalog.compiled <= 2);
  });
});
