/**
 * Import providers in real Chromium: a wasm module imports functions by namespace; the kernel
 * links each call, blocking the module's worker, to a function the page provided
 * (`kernel.provide`) or to an export of the installed service module of that name. Grants, errors
 * and withdrawal are checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { installWith, run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await installWith(page, 'plugin', 'all');
  await installWith(page, 'importer', 'all');
  await page.evaluate(() => {
    const w = window as unknown as { __withdraw: () => void };
    w.__withdraw = window.kernel.provide('hostfns', {
      reverse: (input) => new Uint8Array([...input].reverse()),
      length: (input, caller) => (caller.name === 'importer' ? input.length : -1),
      broken: () => {
        throw new Error('broken on purpose');
      },
    });
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** ENOSYS, EIO, EACCES, ENOENT as WASI numbers them. */
const ERRNO = { NOSYS: 52, IO: 29, ACCES: 2, NOENT: 44 };

describe('functions the page provides', () => {
  it('a module calls them with bytes in and bytes or a number out', async () => {
    expect((await run(page, 'importer', { args: ['page', 'abc'] })).stdout).toBe('cba\n');
    expect((await run(page, 'importer', { args: ['number', 'hello'] })).stdout).toBe('5\n');
  });

  it('links them too where the module may not block (on the page: the import suspends it)', async () => {
    expect((await run(page, 'importer', { args: ['page', 'inpage'], mode: 'inpage' })).stdout).toBe('egapni\n');
    expect((await run(page, 'importer', { args: ['module', 'inpage'], mode: 'inpage' })).stdout).toBe('INPAGE\n');
  });

  it('a function the namespace lacks answers ENOSYS', async () => {
    expect((await run(page, 'importer', { args: ['missing'] })).stdout).toBe(`errno ${ERRNO.NOSYS}\n`);
  });

  it('refuses reserved namespaces and non-functions', async () => {
    const codes = await page.evaluate(() =>
      [() => window.kernel.provide('webmk', {}), () => window.kernel.provide('wasi_snapshot_preview1', {}), () => window.kernel.provide('x', { f: 1 } as never)].map((f) => {
        try {
          f();
          return 'ok';
        } catch (e) {
          return (e as { code: string }).code;
        }
      }),
    );
    expect(codes).toEqual(['kernel/bad-argument', 'kernel/bad-argument', 'kernel/bad-argument']);
  });
});

describe('functions of another module', () => {
  it('a module imports a service module\'s export by its name; its error is EIO', async () => {
    expect((await run(page, 'importer', { args: ['module', 'shout'] })).stdout).toBe('SHOUT\n');
    expect((await run(page, 'importer', { args: ['fail'] })).stdout).toBe(`errno ${ERRNO.IO}\n`);
  });
});

describe('grants and withdrawal', () => {
  it('without call:<namespace> the call is refused (EACCES) and logged', async () => {
    await installWith(page, 'importer', undefined);
    expect((await run(page, 'importer', { args: ['page', 'abc'] })).stdout).toBe(`errno ${ERRNO.ACCES}\n`);
    expect((await run(page, 'importer', { args: ['module', 'abc'] })).stdout).toBe(`errno ${ERRNO.ACCES}\n`);
    const denied = await page.evaluate(() => window.kernel.denied().map((d) => d.permission));
    expect(denied).toEqual(expect.arrayContaining(['call:hostfns', 'call:plugin']));
    await installWith(page, 'importer', 'all');
  });

  it('a withdrawn namespace is no longer linked to the page (no module of that name: ENOENT)', async () => {
    await page.evaluate(() => (window as unknown as { __withdraw: () => void }).__withdraw());
    expect((await run(page, 'importer', { args: ['page', 'abc'] })).stdout).toBe(`errno ${ERRNO.NOENT}\n`);
  });
});
