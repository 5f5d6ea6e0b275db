/**
 * A module's home (ADR 0018): files a module writes under its `'home'` mount survive the run and
 * a reload, page scripts reach them through `kernel.home(module)`, and every process of the
 * module shares them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
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

/** Writes a text file into a module's home from the page, through `kernel.home`. */
function putFile(module: string, name: string, text: string): Promise<void> {
  return page.evaluate(
    async ([m, n, t]) => {
      const dir = await window.kernel.home(m);
      const w = await (await dir.getFileHandle(n, { create: true })).createWritable();
      await w.write(t);
      await w.close();
    },
    [module, name, text] as const,
  );
}

/** Reads a text file from a module's home on the page, or null where there is none. */
function getFile(module: string, name: string): Promise<string | null> {
  return page.evaluate(
    async ([m, n]) => {
      const dir = await window.kernel.home(m);
      try {
        return await (await (await dir.getFileHandle(n)).getFile()).text();
      } catch {
        return null;
      }
    },
    [module, name] as const,
  );
}

describe('home', () => {
  it('keeps a file a module wrote across a page reload', async () => {
    const w = await run(page, 'files', { args: ['write', '/home/note.txt', 'kept', 'across', 'reloads'], mounts: HOME });
    expect(w.code).toBe(0);
    await page.reload();
    await waitForKernel(page);
    const r = await run(page, 'files', { args: ['cat', '/home/note.txt'], mounts: HOME });
    expect(r.stdout).toBe('kept across reloads\n');
  });

  it('hands page scripts the home: a file put there is read by the module, a file it writes is read back', async () => {
    await putFile('files', 'input.txt', 'from the page\n');
    const r = await run(page, 'files', { args: ['cat', '/home/input.txt'], mounts: HOME });
    expect(r.stdout).toBe('from the page\n');
    const w = await run(page, 'files', { args: ['write', '/home/result.txt', 'from', 'the', 'module'], mounts: HOME });
    expect(w.code).toBe(0);
    expect(await getFile('files', 'result.txt')).toBe('from the module\n');
  });

  it('shares the home between processes of one module: each sees what the other wrote at its next open', async () => {
    const [a, b] = await Promise.all([
      run(page, 'files', { args: ['write', '/home/a.txt', 'one'], mounts: HOME }),
      run(page, 'files', { args: ['write', '/home/b.txt', 'two'], mounts: HOME }),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const [ra, rb] = await Promise.all([
      run(page, 'files', { args: ['cat', '/home/b.txt'], mounts: HOME }),
      run(page, 'files', { args: ['cat', '/home/a.txt'], mounts: HOME }),
    ]);
    expect([ra.stdout, rb.stdout]).toEqual(['two\n', 'one\n']);
    // A file changed after a process was given its home is read anew when it opens it.
    await run(page, 'files', { args: ['write', '/home/a.txt', 'changed'], mounts: HOME });
    expect((await run(page, 'files', { args: ['cat', '/home/a.txt'], mounts: HOME })).stdout).toBe('changed\n');
  });

  it('keeps unicode and long names, directories, and removals', async () => {
    const long = `${'ł'.repeat(60)}-${'x'.repeat(120)}.txt`;
    expect((await run(page, 'files', { args: ['mkdir', '/home/dír ✓'], mounts: HOME })).code).toBe(0);
    expect((await run(page, 'files', { args: ['write', `/home/dír ✓/${long}`, 'żółć 🦀'], mounts: HOME })).code).toBe(0);
    await page.reload();
    await waitForKernel(page);
    const r = await run(page, 'files', { args: ['cat', `/home/dír ✓/${long}`], mounts: HOME });
    expect(r.stdout).toBe('żółć 🦀\n');
    const names = await page.evaluate(async (n) => {
      const dir = await (await window.kernel.home('files')).getDirectoryHandle('dír ✓');
      return (await dir.getFileHandle(n).then(() => true, () => false));
    }, long);
    expect(names).toBe(true);
    expect((await run(page, 'files', { args: ['rm', `/home/dír ✓/${long}`], mounts: HOME })).code).toBe(0);
    const ls = await run(page, 'files', { args: ['ls', '/home/dír ✓'], mounts: HOME });
    expect(ls.stdout).toBe('');
  });

  it('keeps each module to its own home', async () => {
    await page.evaluate(async (bytes) => {
      await window.kernel.install(new Uint8Array(bytes), { name: 'other-files' });
    }, moduleBytes('files'));
    expect((await run(page, 'files', { args: ['write', '/home/mine.txt', 'private'], mounts: HOME })).code).toBe(0);
    const r = await run(page, 'other-files', { args: ['cat', '/home/mine.txt'], mounts: HOME });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No such file');
    expect(await getFile('other-files', 'mine.txt')).toBeNull();
  });

  it('gives a fresh, empty /tmp that is gone at exit', async () => {
    const w = await run(page, 'files', { args: ['write', '/tmp/t.txt', 'x'], mounts: { '/tmp': 'tmp' } });
    expect(w.code).toBe(0);
    const r = await run(page, 'files', { args: ['ls', '/tmp'], mounts: { '/tmp': 'tmp' } });
    expect(r.stdout).toBe('');
  });

  it('refuses a home outside worker mode, bad mounts and bad module names, with codes', async () => {
    const codes = await page.evaluate(async () => {
      const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      return [
        await code(window.kernel.spawn('files', { mode: 'iframe', mounts: { '/home': 'home' } })),
        await code(window.kernel.spawn('files', { mounts: { '/home': 'disk' as 'home' } })),
        await code(window.kernel.home('a/b')),
      ];
    });
    expect(codes).toEqual(['kernel/unsupported', 'kernel/bad-argument', 'kernel/bad-argument']);
  });
});
