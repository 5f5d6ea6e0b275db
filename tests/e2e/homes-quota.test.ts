/**
 * A full disk under a module's home: the quota is lowered with the DevTools protocol in a browser
 * of its own. The module gets ENOSPC, its good file stays, and the shell tells the person.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

const HOME = { '/home': 'home' } as const;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'files');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('a full disk gives the module ENOSPC and leaves the good file in place', async () => {
  expect((await run(page, 'files', { args: ['write', '/home/doc.txt', 'good'], mounts: HOME })).code).toBe(0);
  const cdp = await browser.context.newCDPSession(page);
  const origin = new URL(server.url).origin;
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 512 * 1024 });
  let r;
  try {
    r = await run(page, 'files', { args: ['write', '/home/doc.txt', 'x'.repeat(4 * 1024 * 1024)], mounts: HOME });
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  }
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('No space left on device');
  expect((await run(page, 'files', { args: ['cat', '/home/doc.txt'], mounts: HOME })).stdout).toBe('good\n');
  // The person is told which module could not save what, and what to do about it.
  const toast = page.locator('.toast[data-kind="error"]', { hasText: 'storage is full' });
  await toast.waitFor();
  const text = (await toast.textContent()) ?? '';
  expect(text).toContain('files (pid');
  expect(text).toContain('doc.txt');
  expect(text).toContain('Free some space');
  await page.screenshot({ path: `${process.env.WEBMK_SHOTS ?? '/tmp'}/webmk-no-space-toast.png` });
});

it('a full disk under a picked folder does the same, and the message names the folder\'s path', async () => {
  // The folder is a sub-folder of the origin-private file system (a real directory handle; see homes-folder.test.ts).
  const write = (text: string) =>
    page.evaluate(async (t) => {
      const picked = await (await navigator.storage.getDirectory()).getDirectoryHandle('picked-full', { create: true });
      const p = await window.kernel.spawn('files', { args: ['write', '/data/doc.txt', t], mounts: { '/data': picked } });
      await p.stdin.close();
      const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exit]);
      return { code, stderr, now: await (await (await picked.getFileHandle('doc.txt')).getFile()).text() };
    }, text);
  expect(await write('good')).toMatchObject({ code: 0, now: 'good\n' });
  const cdp = await browser.context.newCDPSession(page);
  const origin = new URL(server.url).origin;
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 512 * 1024 });
  let r;
  try {
    r = await write('x'.repeat(4 * 1024 * 1024));
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  }
  expect(r).toMatchObject({ code: 1, now: 'good\n' });
  expect(r.stderr).toContain('No space left on device');
  await page.locator('.toast[data-kind="error"]', { hasText: '/data/doc.txt' }).waitFor();
});

