/**
 * The shell's "Services and store" view in real Chromium: it lists service modules and their
 * functions, calls one with text and shows the output (or the error's code), browses the
 * key-value store by group, follows changes made elsewhere (a watch on every group), sets a key
 * from its form, and lists transforms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser, showView } from './harness';
import { installWith } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.setViewportSize({ width: 1280, height: 900 });
  await installWith(page, 'plugin', 'all');
  await page.evaluate(() => window.kernel.kv.set('notes', 'first', 'one'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the services and store view', () => {
  it('lists service modules with their functions and calls one with text', async () => {
    await showView(page, 'Services and store');
    const card = page.locator('webmk-services-view [data-service="plugin"]');
    await card.waitFor();
    expect(await card.textContent()).toContain('upper');
    await page.locator('#call-target').selectOption('plugin\nupper');
    await page.locator('#call-input').fill('hello view');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page.locator('.call-output').filter({ hasText: 'HELLO VIEW' }).waitFor();
    await page.locator('#call-target').selectOption('plugin\nfail');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page.locator('.call-output.error').filter({ hasText: 'service/error' }).waitFor();
    // Read once a second: the instance, its two calls and the one that failed.
    await card.locator('.service-stats').filter({ hasText: '2 calls' }).filter({ hasText: '1 error' }).waitFor();
  });

  it('browses groups, follows changes made elsewhere, and sets a key from its form', async () => {
    await page.locator('webmk-services-view tr[data-key="first"]').filter({ hasText: 'one' }).waitFor();
    await page.evaluate(() => window.kernel.kv.set('notes', 'second', 'two'));
    const changed = page.locator('webmk-services-view tr.changed[data-key="second"]');
    await changed.waitFor();
    expect(await changed.textContent()).toContain('two');
    await page.locator('webmk-services-view').getByRole('textbox', { name: 'Key' }).fill('third');
    await page.locator('webmk-services-view').getByRole('textbox', { name: 'Value' }).fill('from the form');
    await page.locator('webmk-services-view').getByRole('button', { name: 'Set', exact: true }).click();
    await page.locator('webmk-services-view tr[data-key="third"]').waitFor();
    expect(await page.evaluate(() => window.kernel.kv.get('notes', 'third'))).toBe('from the form');
    await page.evaluate(() => window.kernel.transforms.add('identity', (b) => b));
    await page.locator('webmk-services-view [data-transform="identity"]').waitFor();
    const shot = await page.locator('webmk-services-view').screenshot({ path: `${SHOTS}/webmk-services-view-desktop.png` });
    expect(shot.length).toBeGreaterThan(1000);
  });

  it('has no horizontal scroll at phone width (360px) with the view open', async () => {
    await page.setViewportSize({ width: 360, height: 760 });
    await page.waitForFunction(() => window.innerWidth === 360);
    await page.locator('webmk-services-view').screenshot({ path: `${SHOTS}/webmk-services-view-360.png` });
    const width = await page.evaluate(() => document.scrollingElement?.scrollWidth ?? Infinity);
    expect(width).toBeLessThanOrEqual(360);
  });
});
