/**
 * The registry's schema 5 (packages, trusted keys) opened over a database an older app left
 * (schema 4, written here by hand as that app wrote it): its modules still list, run, and show as
 * packages of one.
 */
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, moduleBytes, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('upgrading the registry to packages', () => {
  it('keeps the modules an older schema stored: they list, run, and are packages of one', async () => {
    const bytes = moduleBytes('hello');
    const sha256 = createHash('sha256').update(new Uint8Array(bytes)).digest('hex');
    // A page of the app's origin that is not the app, so nothing opens the registry first.
    await page.goto(`${server.url}no-such-page`);
    await page.evaluate(
      async ([b, sha]) => {
        const db = await new Promise<IDBDatabase>((ok, fail) => {
          const req = indexedDB.open('webmk', 4);
          req.onupgradeneeded = () => {
            const modules = req.result.createObjectStore('modules', { keyPath: 'name' });
            modules.createIndex('by-sha256', 'sha256');
            req.result.createObjectStore('blobs', { keyPath: 'sha256' });
          };
          req.onsuccess = () => ok(req.result);
          req.onerror = () => fail(req.error);
        });
        const tx = db.transaction(['modules', 'blobs'], 'readwrite');
        tx.objectStore('blobs').put({ sha256: sha, bytes: new Uint8Array(b).buffer });
        // A module record exactly as schema 4 kept it: no `package`.
        tx.objectStore('modules').put({
          name: 'old-hello',
          version: '1.0.0',
          description: 'installed before packages',
          size: b.length,
          sha256: sha,
          installedAt: 1,
          kind: 'wasm',
          command: true,
          imports: [],
          exports: [{ name: '_start', kind: 'function' }],
          capabilities: ['stdout'],
          manifest: {},
          requested: [],
          grants: { publish: [], subscribe: [], kernel: [] },
          config: { args: ['kept'] },
        });
        await new Promise((ok, fail) => {
          tx.oncomplete = ok;
          tx.onerror = () => fail(tx.error);
        });
        db.close();
      },
      [bytes, sha256] as const,
    );
    await page.goto(server.url);
    await waitForKernel(page);
    const modules = await page.evaluate(() => window.kernel.modules());
    expect(modules.map((m) => [m.name, m.package, m.config])).toEqual([['old-hello', 'old-hello', { args: ['kept'] }]]);
    const packages = await page.evaluate(() => window.kernel.packages());
    expect(packages).toMatchObject([{ name: 'old-hello', version: '1.0.0', format: 'module', signature: 'unsigned', modules: [{ name: 'old-hello', state: 'installed' }] }]);
    const r = await run(page, 'old-hello');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    const version = await page.evaluate(() => new Promise<number>((ok) => {
      const req = indexedDB.open('webmk');
      req.onsuccess = () => {
        ok(req.result.version);
        req.result.close();
      };
    }));
    expect(version).toBe(5);
    // Uninstalling it by name works the same as before.
    await page.evaluate(() => window.kernel.uninstall('old-hello'));
    expect(await page.evaluate(() => window.kernel.packages())).toEqual([]);
  });
});
