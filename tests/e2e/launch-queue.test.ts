/**
 * "Open with webmk": files the OS hands the installed app arrive through `launchQueue`. A
 * headless browser cannot launch an installed app, so the test captures the consumer the page
 * registers and hands it real FileSystemFileHandles (from the origin's private file system).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';

let server: StaticServer;
let browser: TestBrowser;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('installs the files the app is opened with and reports the bad ones', async () => {
  await browser.context.addInitScript(() => {
    const w = window as unknown as { __consumers: Array<(p: { files: FileSystemFileHandle[] }) => unknown> };
    w.__consumers = [];
    Object.defineProperty(window, 'launchQueue', {
      configurable: true,
      value: { setConsumer: (c: (p: { files: FileSystemFileHandle[] }) => unknown) => w.__consumers.push(c) },
    });
  });
  const page = await openApp(browser.context, server.url);
  await page.waitForFunction(() => (window as unknown as { __consumers: unknown[] }).__consumers.length === 1);
  await page.evaluate(
    async ([wc, bad]) => {
      const root = await navigator.storage.getDirectory();
      const handles: FileSystemFileHandle[] = [];
      for (const [name, bytes] of [['wc.wasm', wc], ['broken.wasm', bad]] as const) {
        const h = await root.getFileHandle(name, { create: true });
        const w = await h.createWritable();
        await w.write(new Uint8Array(bytes));
        await w.close();
        handles.push(h);
      }
      const consumer = (window as unknown as { __consumers: Array<(p: { files: FileSystemFileHandle[] }) => unknown> }).__consumers[0];
      await consumer?.({ files: handles });
    },
    [moduleBytes('wc'), moduleBytes('truncated')] as const,
  );
  await page.waitForFunction(async () => (await window.kernel.modules()).some((m) => m.name === 'wc'));
  const names = (await page.evaluate(() => window.kernel.modules())).map((m) => m.name);
  expect(names).toContain('wc');
  expect(names).not.toContain('broken');
  // The bad file is reported in the page with its code, not dropped silently.
  await page.waitForFunction(() => document.body.innerText.includes('registry/truncated'));
});
