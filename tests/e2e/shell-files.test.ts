/**
 * The Files… dialog as a person uses it, in a real Chromium against the built app: a file
 * uploaded into a module's home is listed and read by the module under `/home`, a sub-directory
 * the module made is entered and left, and a file deleted there (after a yes) is gone from
 * `kernel.home`. Mount a folder… gives a run the folder the person picked at /data: the native
 * picker cannot be clicked in a headless browser, so the test answers `showDirectoryPicker` with a
 * real `FileSystemDirectoryHandle`, a sub-folder of the page's origin-private file system, and
 * everything after the pick (the permission request, the mount, the reads and writes) is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, run } from './kernel-helpers';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';
const HOME = { '/home': 'home' } as const;

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.setViewportSize({ width: 1280, height: 900 });
  await install(page, 'files');
  await card().waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const dialog = () => page.locator('dialog.files-dialog');
const card = () => page.locator('webmk-registry li.module[data-name="files"]');
const entry = (name: string) => dialog().locator(`li.files-entry[data-name="${name}"]`);

/** The names in the home's top folder, read through `kernel.home`. */
function homeNames(): Promise<string[]> {
  return page.evaluate(async () => {
    const names: string[] = [];
    for await (const h of (await window.kernel.home('files')).values()) names.push(h.name);
    return names.sort();
  });
}

async function open(): Promise<void> {
  await card().getByRole('button', { name: 'Files of files…' }).click();
  await dialog().waitFor({ state: 'visible' });
}

async function close(): Promise<void> {
  await dialog().getByRole('button', { name: 'Close' }).click();
  await dialog().waitFor({ state: 'hidden' });
}

describe('shell: Files…', () => {
  it('uploads into the home, the module reads it, sub-folders open, and Delete removes it from kernel.home', async () => {
    await open();
    await expect(page.locator('#files-title').textContent()).resolves.toBe('Files of files');
    await dialog().locator('input[type="file"]').setInputFiles({ name: 'input.txt', mimeType: 'text/plain', buffer: Buffer.from('from the view\n') });
    await entry('input.txt').waitFor();
    await expect(entry('input.txt').locator('.meta').textContent()).resolves.toBe('14 B');
    expect(await homeNames()).toEqual(['input.txt']);
    await close();

    const cat = await run(page, 'files', { args: ['cat', '/home/input.txt'], mounts: HOME });
    expect(cat).toMatchObject({ code: 0, stdout: 'from the view\n' });
    const mk = await run(page, 'files', { args: ['mkdir', '/home/notes'], mounts: HOME });
    expect(mk.code).toBe(0);
    const wr = await run(page, 'files', { args: ['write', '/home/notes/a.txt', 'hello'], mounts: HOME });
    expect(wr.code).toBe(0);

    await open();
    await entry('notes').getByRole('button', { name: 'notes/' }).click();
    await entry('a.txt').waitFor();
    await expect(dialog().locator('[aria-current="location"]').textContent()).resolves.toBe('notes');
    await page.screenshot({ path: `${SHOTS}/files-view.png` });
    await dialog().getByRole('button', { name: 'home' }).click();
    await entry('input.txt').waitFor();

    await entry('input.txt').getByRole('button', { name: 'Delete input.txt' }).click();
    await entry('input.txt').getByRole('button', { name: 'Yes, delete' }).click();
    await entry('input.txt').waitFor({ state: 'detached' });
    expect(await homeNames()).toEqual(['notes']);
    await close();
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toBe('Files of files…');
  }, 60_000);

  it('makes a folder, renames a file and a folder (the module sees the new names), and deletes a folder with all in it', async () => {
    await open();
    // A name that is taken, or not a name, makes nothing and says why.
    await dialog().locator('.files-new-name').fill('notes');
    await dialog().getByRole('button', { name: 'Make folder' }).click();
    await expect(dialog().locator('.field-error').textContent()).resolves.toContain('already in this folder');
    await dialog().locator('.files-new-name').fill('a/b');
    await dialog().getByRole('button', { name: 'Make folder' }).click();
    await expect(dialog().locator('.field-error').textContent()).resolves.toContain('has no "/"');
    await dialog().locator('.files-new-name').fill('drafts');
    await dialog().locator('.files-new-name').press('Enter');
    await entry('drafts').waitFor();
    expect(await homeNames()).toEqual(['drafts', 'notes']);

    // Rename a file inside notes/, then the folder itself.
    await entry('notes').getByRole('button', { name: 'notes/' }).click();
    await entry('a.txt').waitFor();
    await entry('a.txt').getByRole('button', { name: 'Rename a.txt' }).click();
    await entry('a.txt').locator('.files-rename-name').fill('b.txt');
    await page.screenshot({ path: `${SHOTS}/files-view-rename.png` });
    await entry('a.txt').getByRole('button', { name: 'Save name' }).click();
    await entry('b.txt').waitFor();
    await expect(entry('a.txt').count()).resolves.toBe(0);
    await dialog().getByRole('button', { name: 'home' }).click();
    await entry('notes').getByRole('button', { name: 'Rename notes' }).click();
    await entry('notes').locator('.files-rename-name').fill('journal');
    await entry('notes').locator('.files-rename-name').press('Enter');
    await entry('journal').waitFor();
    expect(await homeNames()).toEqual(['drafts', 'journal']);
    await close();
    const cat = await run(page, 'files', { args: ['cat', '/home/journal/b.txt'], mounts: HOME });
    expect(cat).toMatchObject({ code: 0, stdout: 'hello\n' });

    // Deleting a folder asks, names what goes with it, and takes it all.
    await open();
    await entry('journal').getByRole('button', { name: 'Delete journal' }).click();
    await expect(entry('journal').locator('.confirm').textContent()).resolves.toContain('and all in it');
    await page.screenshot({ path: `${SHOTS}/files-view-delete-folder.png` });
    await entry('journal').getByRole('button', { name: 'Yes, delete' }).click();
    await entry('journal').waitFor({ state: 'detached' });
    expect(await homeNames()).toEqual(['drafts']);
    await close();
  }, 60_000);

  it('Mount a folder… gives the next runs the picked folder at /data, reading and writing it, also after a reload', async () => {
    await page.evaluate(async () => {
      const picked = await (await navigator.storage.getDirectory()).getDirectoryHandle('picked-in-shell', { create: true });
      const w = await (await picked.getFileHandle('letter.txt', { create: true })).createWritable();
      await w.write('dear module\n');
      await w.close();
      // The person's pick: the one thing a headless browser cannot do (see the file's comment).
      (window as unknown as { showDirectoryPicker: () => Promise<FileSystemDirectoryHandle> }).showDirectoryPicker = async () => picked;
    });
    await card().getByRole('button', { name: 'Mount a folder for files' }).click();
    await expect(card().locator('.mounted-folder').textContent()).resolves.toContain('picked-in-shell');
    await card().scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/files-mounted-folder.png` });

    const runIn = async (args: string): Promise<string> => {
      await card().getByLabel('Arguments').fill(args);
      const before = await page.locator('webmk-terminal[data-name="files"]').count();
      await card().getByRole('button', { name: 'Run files' }).click();
      const win = page.locator('webmk-terminal[data-name="files"]').nth(before);
      await win.waitFor();
      await win.locator('.term-bar', { hasText: 'exited with code 0' }).waitFor();
      return win.evaluate((el) => (el as unknown as { text: string }).text);
    };
    expect(await runIn('cat /data/letter.txt')).toContain('dear module');
    await runIn('write /data/reply.txt written through the mount');
    const reply = await page.evaluate(async () => {
      const picked = await (await navigator.storage.getDirectory()).getDirectoryHandle('picked-in-shell');
      return (await (await picked.getFileHandle('reply.txt')).getFile()).text();
    });
    expect(reply).toBe('written through the mount\n');

    // The folder is remembered: after a reload the module still gets it, once the page may write it.
    await page.reload();
    await expect(card().locator('.mounted-folder').textContent()).resolves.toContain('picked-in-shell');
    expect(await runIn('cat /data/reply.txt')).toContain('written through the mount');
    // Where the browser asks again and the person says no, the run is refused with the reason.
    await page.evaluate(() => {
      const proto = FileSystemDirectoryHandle.prototype as unknown as Record<string, unknown>;
      proto.queryPermission = async () => 'prompt';
      proto.requestPermission = async () => 'denied';
    });
    await card().getByLabel('Arguments').fill('ls /data');
    await card().getByRole('button', { name: 'Run files' }).click();
    await page.locator('.toast[data-kind="error"]', { hasText: 'did not allow changes to "picked-in-shell"' }).waitFor();
    await page.evaluate(() => {
      const proto = FileSystemDirectoryHandle.prototype as unknown as Record<string, unknown>;
      delete proto.queryPermission;
      delete proto.requestPermission;
    });

    // Narrow screens: the folder row and the Files view with a rename open fit without scrolling sideways.
    await page.setViewportSize({ width: 360, height: 800 });
    await card().scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${SHOTS}/files-mounted-folder-360.png` });
    await open();
    await entry('drafts').getByRole('button', { name: 'Rename drafts' }).click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${SHOTS}/files-view-rename-360.png` });
    await entry('drafts').getByRole('button', { name: 'Cancel' }).click();
    await close();
    await page.setViewportSize({ width: 1280, height: 900 });

    await card().getByRole('button', { name: 'Unmount the folder of files' }).click();
    await card().getByRole('button', { name: 'Mount a folder for files' }).waitFor();
  }, 60_000);
});

