/**
 * The file servers' swap folders (`webmk-swap/<server>/`, ADR 0031) with two tabs of the app in
 * one browser: a server starting in one tab never removes the folder of a server alive in another
 * (each holds a Web Lock on its folder for its life), and removes those of servers that are gone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;

const HOME = { '/home': 'home' } as const;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The names of the swap folders now. */
function folders(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('webmk-swap', { create: true });
    const names: string[] = [];
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names.sort();
  });
}

/** Makes a swap folder with a file in it, as a server would; `live`: the page holds its lock, as a live server does. */
function fakeServer(page: Page, name: string, live: boolean): Promise<void> {
  return page.evaluate(
    async ([n, l]) => {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('webmk-swap', { create: true });
      const w = await (await (await root.getDirectoryHandle(n, { create: true })).getFileHandle('s1', { create: true })).createWritable();
      await w.write('half');
      await w.close();
      if (l) await new Promise<void>((held) => void navigator.locks.request(`webmk-swap:${n}`, () => (held(), new Promise(() => {}))));
    },
    [name, live] as const,
  );
}

/** Writes a file in the `files` module's home from `page`: its file server has swept, then made its own folder. */
async function write(page: Page, text: string): Promise<void> {
  expect((await run(page, 'files', { args: ['write', '/home/note.txt', text], mounts: HOME })).code).toBe(0);
}

it('a server starting in another tab keeps the folders of live servers and removes those of gone ones', async () => {
  const first = await openApp(browser.context, server.url);
  await install(first, 'files');
  await write(first, 'one');
  const firstFolders = await folders(first);
  expect(firstFolders).toHaveLength(1);
  const second = await openApp(browser.context, server.url);
  // Besides the first tab's: a server alive (the second tab holds its lock) whose folder holds no
  // open file, as between two writes, and one that is gone.
  await fakeServer(second, 'live-elsewhere', true);
  await fakeServer(second, 'gone', false);
  await write(second, 'two');
  const both = await folders(second);
  expect(both).toEqual(expect.arrayContaining([...firstFolders, 'live-elsewhere']));
  expect(both).not.toContain('gone');
  expect(both).toHaveLength(3);
  // The first tab's server still writes through its folder.
  await write(first, 'three');
  expect((await run(second, 'files', { args: ['cat', '/home/note.txt'], mounts: HOME })).stdout).toBe('three\n');

  // The first tab closes: its server's lock goes with its worker, and the next server to start sweeps its folder.
  await first.close();
  await second.waitForFunction(async (n) => !((await navigator.locks.query()).held ?? []).some((l) => l.name === `webmk-swap:${n}`), firstFolders[0], { polling: 50, timeout: 20_000 });
  const third = await openApp(browser.context, server.url);
  await write(third, 'four');
  const now = await folders(third);
  expect(now).not.toContain(firstFolders[0]);
  expect(now).toContain('live-elsewhere');
  expect(now).toHaveLength(3);
});
