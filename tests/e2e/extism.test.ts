/**
 * Extism plugins built with Extism's own C PDK, served through `kernel.call` in real Chromium: the
 * canonical count_vowels example, config, vars and error_set; `http_request` through `fetch` to
 * granted hosts only (Extism's wildcard rule), a memory limit in pages for the plugin's memory and
 * its Extism memory, `timeout_ms`, several wasm files linked into one plugin by name; and the
 * shell's Examples list and Services view calling the example (ADR 0026).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, showView, startServer, type StaticServer, type TestBrowser } from './harness';
import { strToU8 } from 'fflate';
import { zipEntries } from '../../scripts/package-tools.mjs';
import { install, withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

type Outcome = { ok: true; text: string } | { ok: false; code: string; message: string; details: Record<string, unknown> };

/** Calls `module.fn(input)` from the page: the output as text, or the error's code, message and details. */
function call(module: string, fn: string, input?: string, opts?: { timeoutMs?: number }): Promise<Outcome> {
  return page.evaluate(
    async ([m, f, i, o]) => {
      try {
        return { ok: true as const, text: new TextDecoder().decode(await window.kernel.call(m, f, i, o)) };
      } catch (e) {
        const err = e as { code: string; message: string; details: Record<string, unknown> };
        return { ok: false as const, code: err.code, message: err.message, details: err.details };
      }
    },
    [module, fn, input, opts] as const,
  );
}

/** Installs fixture `from` as `name` with its manifest replaced by `manifest`. */
async function installAs(name: string, from: string, manifest: Record<string, unknown>, grant?: 'all'): Promise<void> {
  await page.evaluate(
    async ([n, bytes, g]) => {
      await window.kernel.install(new Uint8Array(bytes), { name: n, ...(g !== undefined ? { grant: g } : {}) });
    },
    [name, withManifest(moduleBytes(from), { name, version: '1.0.0', description: 'test', ...manifest }), grant] as const,
  );
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'pdkprobe', 'mathlib', 'calc', 'calc-nolib');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('a plugin built with the Extism C PDK', () => {
  it('count_vowels returns JSON, keeps its running total in a var, and reads its vowels from config', async () => {
    await install(page, 'vowels');
    expect(await call('vowels', 'count_vowels', 'Hello, World!')).toEqual({ ok: true, text: '{"count": 3, "total": 3, "vowels": "aeiouAEIOU"}' });
    expect(await call('vowels', 'count_vowels', 'aaa')).toEqual({ ok: true, text: '{"count": 3, "total": 6, "vowels": "aeiouAEIOU"}' });
    await installAs('vowels-y', 'vowels', { service: { config: { vowels: 'aeiouy' } } });
    expect(await call('vowels-y', 'count_vowels', 'rhythm and blues')).toEqual({ ok: true, text: '{"count": 4, "total": 4, "vowels": "aeiouy"}' });
  });

  it('reads config, keeps vars across calls, and error_set fails the call with its text', async () => {
    expect(await call('pdkprobe', 'greet', 'World')).toEqual({ ok: true, text: 'Hello, World!' });
    await installAs('greeter', 'pdkprobe', { service: { config: { greeting: 'Howdy' } } });
    expect(await call('greeter', 'greet', 'World')).toEqual({ ok: true, text: 'Howdy, World!' });
    const no = await call('greeter', 'greet', 'Benjamin');
    expect(no).toMatchObject({ ok: false, code: 'service/error', message: 'no Benjamins here' });
    expect([await call('greeter', 'count'), await call('greeter', 'count'), await call('greeter', 'count')]).toEqual([
      { ok: true, text: '1' },
      { ok: true, text: '2' },
      { ok: true, text: '3' },
    ]);
    expect(await call('greeter', 'log', 'a line')).toEqual({ ok: true, text: 'logged' });
  });
});

describe('http_request', () => {
  const origin = (): string => new URL(server.url).origin;

  it('fetches from a host its manifest asked for and the person granted, with Extism wildcards', async () => {
    await installAs('fetcher', 'pdkprobe', { service: { allowed_hosts: ['127.0.0.*'] } }, 'all');
    const got = await call('fetcher', 'fetch', `${origin()}/app/modules/index.json`);
    expect(got.ok).toBe(true);
    expect(got.ok && got.text.startsWith('200 [')).toBe(true);
    expect(got.ok && got.text).toContain('"name":"vowels"');
    expect(await call('fetcher', 'fetch', `${origin()}/app/no-such-file`)).toEqual({ ok: true, text: '404 not found' });
    // The shell fetches index.json too: the 404's path is one only the plugin asked for.
    expect(server.requests).toContain('/app/no-such-file');
  });

  it('refuses a host no pattern matches, or one not granted, without sending anything', async () => {
    const port = new URL(server.url).port;
    const refused = await call('fetcher', 'fetch', `http://localhost:${port}/app/never-sent-1`);
    expect(refused).toMatchObject({ ok: false, code: 'service/host-not-allowed', details: { host: 'localhost' } });
    expect(refused.ok === false && refused.message).toContain('is not allowed');
    // Installed without the grant: the manifest asked, the person did not give.
    await installAs('ungranted', 'pdkprobe', { service: { allowed_hosts: ['127.0.0.1'] } });
    expect(await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'ungranted')?.requested)).toEqual(['http:127.0.0.1']);
    expect(await call('ungranted', 'fetch', `${origin()}/app/never-sent-2`)).toMatchObject({ ok: false, code: 'service/host-not-allowed' });
    expect(server.requests.filter((r) => r.includes('never-sent'))).toEqual([]);
    const denied = await page.evaluate(() => window.kernel.denied().map((d) => `${d.name} ${d.permission}`));
    expect(denied).toContain('fetcher http:localhost');
    // The refused call ended that instance; the next call meets a fresh one.
    expect(await call('fetcher', 'greet', 'again')).toEqual({ ok: true, text: 'Hello, again!' });
  });
});

describe('the HTTP response cap', () => {
  const origin = (): string => new URL(server.url).origin;

  it('a response over memory.max_http_response_bytes fails the call service/error, naming the limit', async () => {
    await installAs('fetch-small', 'pdkprobe', { service: { allowed_hosts: ['127.0.0.*'], memory: { max_http_response_bytes: 64 } } }, 'all');
    const r = await call('fetch-small', 'fetch', `${origin()}/app/modules/index.json`);
    expect(r).toMatchObject({ ok: false, code: 'service/error', details: { limit: 64 } });
    expect(r.ok === false && r.message).toContain('max_http_response_bytes');
    // Under the limit, the same plugin gets its answer: the 404 page is short.
    expect(await call('fetch-small', 'fetch', `${origin()}/app/no-such-file`)).toEqual({ ok: true, text: '404 not found' });
  });

  it('without a limit in the manifest, a response over 128 KiB is refused the same way', async () => {
    const big = readdirSync(join(import.meta.dirname, '../../dist/assets')).find((f) => f.startsWith('index-') && f.endsWith('.js'));
    expect(big).toBeDefined();
    await installAs('fetch-big', 'pdkprobe', { service: { allowed_hosts: ['127.0.0.*'] } }, 'all');
    const r = await call('fetch-big', 'fetch', `${origin()}/app/assets/${big}`);
    expect(r).toMatchObject({ ok: false, code: 'service/error', details: { limit: 128 * 1024 } });
  });
});

describe('memory limits and timeout_ms from the manifest', () => {
  it('a plugin growing its memory past memory.max_pages fails service/memory-exceeded', async () => {
    await installAs('small', 'pdkprobe', { service: { memory: { max_pages: 8 } } });
    expect(await call('small', 'grow', '2')).toEqual({ ok: true, text: '5' });
    const past = await call('small', 'grow', '10');
    expect(past).toMatchObject({ ok: false, code: 'service/memory-exceeded', details: { reason: 'memory-exceeded' } });
    expect(await call('small', 'greet', 'after')).toEqual({ ok: true, text: 'Hello, after!' });
  });

  it('Extism memory blocks past the limit fail the same way, and a module starting over it is refused', async () => {
    // Blocks are held for one call: 8 pages are 524,288 bytes.
    expect(await call('small', 'hold', '300000')).toEqual({ ok: true, text: '300000' });
    const past = await call('small', 'hold', '600000');
    expect(past).toMatchObject({ ok: false, code: 'service/memory-exceeded' });
    expect(past.ok === false && past.message).toContain('memory limit');
    await installAs('tiny', 'pdkprobe', { service: { memory: { max_pages: 1 } } });
    expect(await call('tiny', 'greet', 'x')).toMatchObject({ ok: false, code: 'service/memory-exceeded', details: { maxPages: 1 } });
  });

  it('timeout_ms is the deadline of a call that gives none', async () => {
    await installAs('slow', 'plugin', { service: { timeout_ms: 2000 } });
    const t = await call('slow', 'spin');
    expect(t).toMatchObject({ ok: false, code: 'kernel/timeout' });
    expect(await call('slow', 'echo', 'fresh')).toEqual({ ok: true, text: 'fresh' });
  });

  it('a malformed Extism field is refused at install', async () => {
    for (const service of [{ allowed_hosts: ['bad host'] }, { memory: { max_pages: 0 } }, { wasm: [{ name: 'a b' }] }, { timeout_ms: -1 }]) {
      const code = await page.evaluate(
        async (bytes) => {
          try {
            await window.kernel.install(new Uint8Array(bytes), { name: 'malformed' });
            return 'installed';
          } catch (e) {
            return (e as { code: string }).code;
          }
        },
        withManifest(moduleBytes('pdkprobe'), { name: 'malformed', version: '1.0.0', service }),
      );
      expect(code).toBe('registry/invalid-manifest');
    }
  });
});

describe('several wasm files linked into one plugin by name', () => {
  it("one module's exports satisfy another's imports by the name its manifest gives", async () => {
    expect(await call('calc', 'sum', '2 3')).toEqual({ ok: true, text: '5' });
    expect(await call('calc', 'product', '-4 5')).toEqual({ ok: true, text: '-20' });
  });

  it('a package links its own wasm files: a module entry gives the plugin its Extism fields', async () => {
    const webmkJson = {
      name: 'calcpkg',
      version: '1.0.0',
      description: 'a plugin and the library it links, in one package',
      modules: [
        { name: 'pkg-math', file: 'lib/math.wasm' },
        { name: 'pkg-calc', file: 'calc.wasm', service: { wasm: [{ name: 'math', module: 'pkg-math' }], timeout_ms: 5000 } },
      ],
    };
    const zip = [
      ...zipEntries({
        'webmk.json': strToU8(JSON.stringify(webmkJson)),
        'lib/math.wasm': new Uint8Array(moduleBytes('mathlib')),
        'calc.wasm': new Uint8Array(moduleBytes('calc')),
      }),
    ];
    const linked = await page.evaluate(async (b) => {
      const mods = await window.kernel.install(new Uint8Array(b), { untrusted: true });
      return (Array.isArray(mods) ? mods : [mods]).find((m) => m.name === 'pkg-calc')?.manifest.service;
    }, zip);
    expect(linked).toEqual({ wasm: [{ name: 'math', module: 'pkg-math' }], timeout_ms: 5000 });
    expect(await call('pkg-calc', 'product', '6 7')).toEqual({ ok: true, text: '42' });
  });

  it('a linked module that is not installed is refused with its name', async () => {
    const r = await call('calc-nolib', 'sum', '1 1');
    expect(r).toMatchObject({ ok: false, code: 'kernel/unknown-module', details: { name: 'no-such-lib', linkedAs: 'math', by: 'calc-nolib' } });
  });

  it('a linked module that lacks an import the plugin needs fails the call, naming the import', async () => {
    await installAs('calc-wrong', 'calc', { service: { wasm: [{ name: 'math', module: 'pdkprobe' }] } });
    const r = await call('calc-wrong', 'sum', '1 1');
    expect(r).toMatchObject({ ok: false, code: 'service/error', details: { linkedAs: 'math', missing: 'add' } });
    expect(await page.evaluate(() => window.kernel.processes().filter((p) => p.name === 'calc-wrong').length)).toBe(0);
  });
});

describe('the shell', () => {
  it('lists the vowels example, installs it, and calls count_vowels from the Services view', async () => {
    await page.evaluate(async () => {
      if ((await window.kernel.modules()).some((m) => m.name === 'vowels')) await window.kernel.uninstall('vowels');
    });
    await page.setViewportSize({ width: 1280, height: 900 });
    await showView(page, 'Modules');
    const example = page.locator('webmk-examples li.example[data-name="vowels"]');
    await example.waitFor();
    expect(await example.textContent()).toContain('count_vowels');
    await example.getByRole('button', { name: 'Install example vowels' }).click();
    await example.locator('.tag.ok').waitFor();
    const card = page.locator('webmk-registry li.module[data-name="vowels"]');
    await card.locator('.chip', { hasText: 'Extism plugin' }).waitFor();
    expect(await card.textContent()).toContain('call its functions in Services and store');
    await showView(page, 'Services and store');
    await page.locator('webmk-services-view [data-service="vowels"]').waitFor();
    await page.locator('#call-target').selectOption('vowels\ncount_vowels');
    await page.locator('#call-input').fill('Extism in a browser tab');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page.locator('.call-output').filter({ hasText: '"count": 7' }).waitFor();
    // A plugin's Extism terms are on its card.
    await expect(page.locator('webmk-services-view [data-service="calc"] .plugin-terms').textContent()).resolves.toBe('links mathlib as math');
    await expect(page.locator('webmk-services-view [data-service="small"] .plugin-terms').textContent()).resolves.toBe('memory at most 8 pages (512 KiB)');
    await expect(page.locator('webmk-services-view [data-service="fetcher"] .plugin-terms').textContent()).resolves.toBe('HTTP to 127.0.0.*');
    await expect(page.locator('webmk-services-view [data-service="ungranted"] .plugin-terms').textContent()).resolves.toBe('HTTP asked for, not granted');
    const shot = await page.locator('webmk-services-view').screenshot({ path: `${SHOTS}/webmk-extism-vowels.png` });
    expect(shot.length).toBeGreaterThan(1000);
  });

  it("asks the person for a dropped plugin's allowed hosts in words, and the grant lets its http_request through", async () => {
    const manifest = { name: 'dropped-fetcher', version: '1.0.0', description: 'test', service: { allowed_hosts: ['127.0.0.*'] } };
    const bytes = withManifest(moduleBytes('pdkprobe'), manifest);
    await page.evaluate((b) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], 'dropped-fetcher.wasm', { type: 'application/wasm' }));
      for (const type of ['dragenter', 'dragover', 'drop']) window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    const dialog = page.locator('dialog.grant-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 15_000 });
    await expect(dialog.textContent()).resolves.toContain('send HTTP requests to hosts matching "127.0.0.*"');
    await page.screenshot({ path: `${SHOTS}/webmk-extism-grant.png` });
    await dialog.locator('.allow-all').click();
    await dialog.waitFor({ state: 'hidden' });
    const got = await call('dropped-fetcher', 'fetch', `${new URL(server.url).origin}/app/modules/index.json`);
    expect(got.ok && got.text.startsWith('200 ')).toBe(true);
    // A refused host is told in words, like every refusal.
    await call('dropped-fetcher', 'fetch', `http://localhost:${new URL(server.url).port}/app/never-sent-3`);
    await page.locator('.toast', { hasText: 'dropped-fetcher was refused: send HTTP requests to "localhost"' }).waitFor({ timeout: 10_000 });
  });
});
