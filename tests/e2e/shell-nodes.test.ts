/**
 * The Nodes view and "Run on…" as a person uses them (issue 13): two tabs of the app; the first
 * shows its own id and the other tab with a round trip; a module run on the other tab from its
 * card opens a terminal here that shows what it printed, and both process lists mark it (on /
 * for the other node). Screenshots wide and narrow.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser, showView } from './harness';
import { install } from './kernel-helpers';
import { nodeOf, waitNode } from './remote-helpers';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

let server: StaticServer;
let browser: TestBrowser;
let a: Page;
let b: Page;
let idA = '';
let idB = '';

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  a = await openApp(browser.context, server.url);
  b = await openApp(browser.context, server.url);
  await a.setViewportSize({ width: 1280, height: 900 });
  await install(a, 'cat');
  [idA, idB] = await Promise.all([nodeOf(a), nodeOf(b)]);
  await waitNode(a, idB);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('the Nodes view shows this node and the other tab with its round trip', async () => {
  await showView(a, 'Nodes');
  const view = a.locator('webmk-nodes');
  await expect(view.locator('.node-self').textContent()).resolves.toContain(idA);
  const row = view.locator(`tr[data-node="${idB}"]`);
  await row.waitFor();
  await expect(row.textContent()).resolves.toContain('tab');
  await a.waitForFunction((n) => /\d ms/.test(document.querySelector(`webmk-nodes tr[data-node="${n}"] .rtt`)?.textContent ?? ''), idB);
  // The status line says how many other nodes are connected, and leads to the view.
  await expect(a.locator('.statusline .nodes-chip').textContent()).resolves.toBe('1 node');
  await showView(a, 'Modules');
  await a.locator('.statusline .nodes-chip').click();
  await a.locator('#view-nodes webmk-nodes').waitFor();
});

it('"Run on…" runs a module on the other tab in a terminal here, marked in both process lists', async () => {
  await showView(a, 'Modules');
  await showView(b, 'Modules');
  await b.locator('webmk-registry li.module[data-name="cat"]').waitFor();
  const card = a.locator('webmk-registry li.module[data-name="cat"]');
  await card.waitFor();
  await a.waitForFunction(() => document.querySelector('webmk-registry li.module[data-name="cat"] select.mode optgroup[label="Run on…"]') !== null);
  await card.locator('select.mode').selectOption(`node:${idB}`);
  await card.getByRole('button', { name: 'Run cat' }).click();
  const win = a.locator('webmk-terminal[data-name="cat"]').first();
  await win.waitFor();
  const pid = Number(await win.getAttribute('data-pid'));
  await win.click();
  await a.keyboard.type('across tabs\n');
  await a.waitForFunction((p) => ((document.querySelector(`webmk-terminal[data-pid="${p}"]`) as unknown as { text: string } | null)?.text.match(/across tabs/g) ?? []).length >= 2, pid);
  const mine = a.locator(`webmk-processes tr[data-pid="${pid}"] .mode`);
  await expect(mine.textContent()).resolves.toMatch(new RegExp(`remote\\s+on ${idB.slice(0, 4)}`));
  const remotePid = await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p)?.remotePid, pid);
  expect(remotePid).toBeGreaterThan(0);
  await showView(b, 'Processes');
  const theirs = b.locator(`webmk-processes tr[data-pid="${remotePid}"] .mode`);
  await theirs.waitFor();
  await expect(theirs.textContent()).resolves.toMatch(new RegExp(`for ${idA.slice(0, 4)}`));
  await showView(a, 'Nodes');
  await a.locator('webmk-nodes').scrollIntoViewIfNeeded();
  await a.screenshot({ path: `${SHOTS}/webmk-nodes-desktop.png` });
  await a.setViewportSize({ width: 360, height: 800 });
  await a.locator('webmk-nodes').scrollIntoViewIfNeeded();
  const overflows = await a.evaluate(() => {
    const el = document.querySelector('webmk-nodes') as HTMLElement;
    return el.scrollWidth > el.clientWidth + 1 || document.documentElement.scrollWidth > 360;
  });
  expect(overflows).toBe(false);
  await a.screenshot({ path: `${SHOTS}/webmk-nodes-360.png` });
  await a.evaluate(() => window.scrollTo(0, 0));
  await a.screenshot({ path: `${SHOTS}/webmk-nodes-header-360.png` });
  await a.setViewportSize({ width: 1280, height: 900 });
  await a.evaluate((p) => window.kernel.kill(p), pid);
  await a.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', pid);
});
