/**
 * A folder the person picked, mounted for a process (`mounts: { '/data': handle }`, ADR 0024):
 * the module reads and writes the real folder. A headless browser cannot click a directory
 * picker, so the handle here is a sub-folder of the page's origin-private file system
 * (`navigator.storage.getDirectory()`): a real `FileSystemDirectoryHandle`, the same interface
 * `showDirectoryPicker()` returns; everything after the pick is the same code path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

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

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `files ARGS` with the OPFS folder `folder` mounted at `/data` (and `extra` mounts); its output, or the spawn's refusal code. */
function runOnFolder(args: string[], opts: { folder?: string; mode?: 'worker' | 'iframe' } = {}): Promise<Ran | { refused: string }> {
  return page.evaluate(
    async ([a, folder, mode]) => {
      const picked = await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true });
      try {
        const p = await window.kernel.spawn('files', { args: a, mounts: { '/data': picked }, ...(mode !== undefined ? { mode } : {}) });
        await p.stdin.close();
        const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exit]);
        return { code, stdout, stderr };
      } catch (e) {
        return { refused: (e as { code: string }).code };
      }
    },
    [args, opts.folder ?? 'picked', opts.mode] as const,
  );
}

/** The folder's files, read on the page through the handle: path to text (directories end in `/`). */
function folderContents(folder = 'picked'): Promise<Record<string, string>> {
  return page.evaluate(async (name) => {
    const out: Record<string, string> = {};
    const walk = async (dir: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
      for await (const h of dir.values()) {
        if (h.kind === 'directory') {
          out[`${prefix}${h.name}/`] = '';
          await walk(h as FileSystemDirectoryHandle, `${prefix}${h.name}/`);
        } else out[`${prefix}${h.name}`] = await (await (h as FileSystemFileHandle).getFile()).text();
      }
    };
    await walk(await (await navigator.storage.getDirectory()).getDirectoryHandle(name, { create: true }), '');
    return out;
  }, folder);
}

describe('a picked folder mounted at /data', () => {
  it('is read and written by the module: what it writes is in the real folder, what the page puts there it reads', async () => {
    await page.evaluate(async () => {
      const picked = await (await navigator.storage.getDirectory()).getDirectoryHandle('picked', { create: true });
      const w = await (await picked.getFileHandle('input.txt', { create: true })).createWritable();
      await w.write('from the person\n');
      await w.close();
    });
    expect(await runOnFolder(['cat', '/data/input.txt'])).toMatchObject({ code: 0, stdout: 'from the person\n' });
    expect(await runOnFolder(['mkdir', '/data/out'])).toMatchObject({ code: 0 });
    expect(await runOnFolder(['write', '/data/out/result.txt', 'made', 'by', 'files'])).toMatchObject({ code: 0 });
    expect(await runOnFolder(['append', '/data/input.txt', 'and', 'more'])).toMatchObject({ code: 0 });
    expect(await folderContents()).toEqual({ 'input.txt': 'from the person\nand more\n', 'out/': '', 'out/result.txt': 'made by files\n' });
    const ls = await runOnFolder(['ls', '/data']);
    expect(ls).toMatchObject({ code: 0 });
    expect((ls as Ran).stdout).toContain('input.txt');
    expect(await runOnFolder(['rm', '/data/input.txt'])).toMatchObject({ code: 0 });
    expect(Object.keys(await folderContents())).toEqual(['out/', 'out/result.txt']);
  });

  it('keeps two folders apart, and the module home apart from both', async () => {
    expect(await runOnFolder(['write', '/data/one.txt', 'one'], { folder: 'other' })).toMatchObject({ code: 0 });
    expect(await folderContents('other')).toEqual({ 'one.txt': 'one\n' });
    expect(Object.keys(await folderContents('picked'))).not.toContain('one.txt');
    const both = await page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const a = await root.getDirectoryHandle('picked');
      const b = await root.getDirectoryHandle('other');
      const p = await window.kernel.spawn('files', { args: ['write', '/b/two.txt', 'two'], mounts: { '/a': a, '/b': b, '/home': 'home' } });
      await p.stdin.close();
      return p.exit;
    });
    expect(both).toBe(0);
    expect(await folderContents('other')).toEqual({ 'one.txt': 'one\n', 'two.txt': 'two\n' });
  });

  it('is refused outside worker mode, and a mount that is not a directory handle is a bad argument', async () => {
    expect(await runOnFolder(['ls', '/data'], { mode: 'iframe' })).toEqual({ refused: 'kernel/unsupported' });
    const bad = await page.evaluate(() =>
      window.kernel
        .spawn('files', { args: ['ls', '/data'], mounts: { '/data': { kind: 'directory' } as unknown as FileSystemDirectoryHandle } })
        .then(() => 'spawned', (e: { code: string }) => e.code),
    );
    expect(bad).toBe('kernel/bad-argument');
  });

  it('is refused past 64 MiB (each process loads it whole), before a byte of it is read', async () => {
    await page.evaluate(async () => {
      const huge = await (await navigator.storage.getDirectory()).getDirectoryHandle('huge', { create: true });
      const w = await (await huge.getFileHandle('big.bin', { create: true })).createWritable();
      await w.truncate(65 * 1024 * 1024);
      await w.close();
    });
    expect(await runOnFolder(['ls', '/data'], { folder: 'huge' })).toEqual({ refused: 'kernel/unsupported' });
    await page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry('huge', { recursive: true }));
  });
});
