/** A full disk: the quota is lowered with the DevTools protocol in a browser of its own. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { snapshot } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let quotaPage: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  quotaPage = await openApp(browser.context, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

  it('a full disk gives registry/quota and nothing half-written', async () => {
    const before = await snapshot(quotaPage);
    const cdp = await browser.context.newCDPSession(quotaPage);
    const origin = new URL(server.url).origin;
    const usage = await quotaPage.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 3 * 1024 * 1024 });
    // Valid modules padded with a 1 MiB custom section, installed until the disk is full.
    const results = await quotaPage.evaluate(async (hello) => {
      const out: string[] = [];
      for (let i = 0; i < 8 && !out.includes('registry/quota'); i++) {
        // Random, so IndexedDB's compression cannot shrink it.
        const padding = new Uint8Array(1024 * 1024);
        for (let at = 0; at < padding.length; at += 65536) crypto.getRandomValues(padding.subarray(at, at + 65536));
        const name = new TextEncoder().encode('padding');
        const size = 1 + name.length + padding.length;
        const leb = [(size & 0x7f) | 0x80, ((size >> 7) & 0x7f) | 0x80, size >> 14];
        const head = new Uint8Array([...hello, 0, ...leb, name.length, ...name]);
        const bytes = new Uint8Array(head.length + padding.length);
        bytes.set(head);
        bytes.set(padding, head.length);
        out.push(await window.kernel.install(bytes, { name: `big-${i}` }).then(() => 'installed', (e: { code: string }) => e.code));
      }
      return out;
    }, moduleBytes('hello'));
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    expect(results.at(-1)).toBe('registry/quota');
    const installed = results.filter((r) => r === 'installed').length;
    const after = await snapshot(quotaPage);
    // Exactly the modules that were reported installed are there, each with its blob.
    expect(after.names).toEqual([...before.names, ...Array.from({ length: installed }, (_, i) => `big-${i}`)].sort());
    expect(after.blobs).toBe(before.blobs + installed);
    for (let i = 0; i < installed; i++) await quotaPage.evaluate((n) => window.kernel.uninstall(n), `big-${i}`);
  });
