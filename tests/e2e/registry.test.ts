/** The registry in IndexedDB through `window.kernel`: validation, atomicity, persistence, tabs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { install, run, snapshot } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'hello');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('install', () => {
  it('describes a module: manifest, size, sha-256, imports, capabilities', async () => {
    const info = await page.evaluate(async (bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'hello2' }), moduleBytes('hello'));
    expect(info.name).toBe('hello2');
    expect(info.version).toBe('1.0.0');
    expect(info.description.length).toBeGreaterThan(0);
    expect(info.size).toBe(moduleBytes('hello').length);
    expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.command).toBe(true);
    expect(info.capabilities).toEqual(expect.arrayContaining(['args', 'env', 'stdout']));
    expect(info.imports.some((i) => i.module === 'wasi_snapshot_preview1' && i.name === 'fd_write')).toBe(true);
    await page.evaluate(() => window.kernel.uninstall('hello2'));
  });

  it('names a File after its file name without .wasm', async () => {
    const info = await page.evaluate(async (bytes) => window.kernel.install(new File([new Uint8Array(bytes)], 'My Tool.wasm')), moduleBytes('wc'));
    expect(info.name).toBe('My-Tool');
    expect(info.source).toBe('My Tool.wasm');
    await page.evaluate(() => window.kernel.uninstall('My-Tool'));
  });

  it('stores one blob for two modules with the same bytes and keeps it until both are gone', async () => {
    const before = await snapshot(page);
    await page.evaluate(async (bytes) => {
      await window.kernel.install(new Uint8Array(bytes), { name: 'twin-a' });
      await window.kernel.install(new Uint8Array(bytes), { name: 'twin-b' });
    }, moduleBytes('cat'));
    expect((await snapshot(page)).blobs).toBe(before.blobs + 1);
    await page.evaluate(() => window.kernel.uninstall('twin-a'));
    expect((await snapshot(page)).blobs).toBe(before.blobs + 1);
    expect((await run(page, 'twin-b', { stdin: 'still here' })).stdout).toBe('still here');
    await page.evaluate(() => window.kernel.uninstall('twin-b'));
    expect(await snapshot(page)).toEqual(before);
  });

  it('rejects bad input with a code and leaves the registry unchanged', async () => {
    const before = await snapshot(page);
    const cases: Array<[string, number[]]> = [
      ['empty', moduleBytes('empty')],
      ['notwasm', moduleBytes('notwasm')],
      ['truncated', moduleBytes('truncated')],
      // The magic and version, then a section that claims more bytes than follow.
      ['bad-section', [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x7f]],
      // Complete sections that do not validate: a type section with an unknown form.
      ['invalid', [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 2, 1, 0x42]],
    ];
    const codes = await page.evaluate(async (list) => {
      const out: Record<string, string> = {};
      for (const [name, bytes] of list) {
        out[name] = await window.kernel.install(new Uint8Array(bytes), { name }).then(
          () => 'installed',
          (e: { code: string; name: string }) => `${e.name}:${e.code}`,
        );
      }
      return out;
    }, cases);
    expect(codes).toEqual({
      empty: 'KernelError:registry/empty',
      notwasm: 'KernelError:registry/not-wasm',
      truncated: 'KernelError:registry/truncated',
      'bad-section': 'KernelError:registry/truncated',
      invalid: 'KernelError:registry/invalid-wasm',
    });
    expect(await snapshot(page)).toEqual(before);
  });

  it('rejects invalid names and an unreadable manifest', async () => {
    const codes = await page.evaluate(async (bytes) => {
      const k = window.kernel;
      const b = new Uint8Array(bytes);
      return Promise.all([
        k.install(b, { name: '../etc' }).catch((e: { code: string }) => e.code),
        k.install(b, { name: '' }).catch((e: { code: string }) => e.code),
        k.install(42 as unknown as Uint8Array).catch((e: { code: string }) => e.code),
        // A string is a URL, fetched first.
        k.install('no-such-file.wasm').catch((e: { code: string }) => e.code),
      ]);
    }, moduleBytes('hello'));
    expect(codes).toEqual(['registry/invalid-name', 'registry/invalid-name', 'kernel/bad-argument', 'registry/fetch-failed']);
    // A custom section webmk.manifest that is not JSON: section id 0, size, name, payload.
    const name = [...Buffer.from('webmk.manifest')];
    const payload = [...Buffer.from('{not json')];
    const section = [0, 1 + name.length + payload.length, name.length, ...name, ...payload];
    const code = await page.evaluate(
      (bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'badmanifest' }).catch((e: { code: string }) => e.code),
      [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section],
    );
    expect(code).toBe('registry/invalid-manifest');
  });

  it('replaces a module of the same name whole (an upgrade)', async () => {
    await page.evaluate(async (bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'swap' }), moduleBytes('hello'));
    await page.evaluate(async (bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'swap' }), moduleBytes('cat'));
    expect((await run(page, 'swap', { stdin: 'now cat' })).stdout).toBe('now cat');
    await page.evaluate(() => window.kernel.uninstall('swap'));
  });

  it('uninstall of an unknown module rejects with registry/not-found', async () => {
    const code = await page.evaluate(() => window.kernel.uninstall('nothing-here').catch((e: { code: string }) => e.code));
    expect(code).toBe('registry/not-found');
  });
});

describe('persistence and tabs', () => {
  it('keeps modules across a reload', async () => {
    await page.reload();
    await waitForKernel(page);
    expect((await snapshot(page)).names).toContain('hello');
    expect((await run(page, 'hello')).stdout).toContain('hello, world');
  });

  it('tells another tab about an install and an uninstall', async () => {
    const other = await browser.context.newPage();
    await other.goto(server.url);
    await waitForKernel(other);
    await other.evaluate(() => {
      const w = window as unknown as { events: number };
      w.events = 0;
      window.kernel.addEventListener('modules', () => w.events++);
    });
    await page.evaluate(async (bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'from-tab-one' }), moduleBytes('wc'));
    await other.waitForFunction(() => (window as unknown as { events: number }).events > 0);
    expect((await snapshot(other)).names).toContain('from-tab-one');
    await page.evaluate(() => window.kernel.uninstall('from-tab-one'));
    await other.waitForFunction(() => (window as unknown as { events: number }).events > 1);
    expect((await snapshot(other)).names).not.toContain('from-tab-one');
    await other.close();
  });
});
