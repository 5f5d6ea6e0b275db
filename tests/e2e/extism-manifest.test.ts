/**
 * An Extism manifest given as such to `kernel.install` (ADR 0035), in real Chromium: its `wasm`
 * files by `url` (fetched from the test's server, checked against `hash`) or by `data` (bytes or
 * base64), installed as a package whose plugin carries the manifest's fields and links the other
 * entries by name; a file unlike its hash, a `path`, and a malformed manifest are refused.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

type Outcome = { ok: true; text: string } | { ok: false; code: string; message: string; details: Record<string, unknown> };
type Installed = { ok: true; names: string[]; manifests: Record<string, unknown> } | { ok: false; code: string; message: string; details: Record<string, unknown> };

const VOWELS_SHA256 = createHash('sha256').update(readFileSync(join(import.meta.dirname, '../../dist/modules/vowels.wasm'))).digest('hex');

function call(module: string, fn: string, input?: string): Promise<Outcome> {
  return page.evaluate(
    async ([m, f, i]) => {
      try {
        return { ok: true as const, text: new TextDecoder().decode(await window.kernel.call(m, f, i)) };
      } catch (e) {
        const err = e as { code: string; message: string; details: Record<string, unknown> };
        return { ok: false as const, code: err.code, message: err.message, details: err.details };
      }
    },
    [module, fn, input] as const,
  );
}

/**
 * Installs an Extism manifest from the page; `bytes` names entries whose `data` is a fixture's
 * bytes (given as a Uint8Array on the page). Resolves with the names and manifests installed.
 */
function installManifest(manifest: Record<string, unknown>, opts: Record<string, unknown> = {}, bytes: Record<number, number[]> = {}): Promise<Installed> {
  return page.evaluate(
    async ([m, o, b]) => {
      const wasm = (m.wasm as Array<Record<string, unknown>>).map((w, i) => (b[i] !== undefined ? { ...w, data: new Uint8Array(b[i]) } : w));
      try {
        const r = await window.kernel.install({ ...m, wasm } as unknown as Parameters<typeof window.kernel.install>[0], o);
        const list = Array.isArray(r) ? r : [r];
        return { ok: true as const, names: list.map((i) => i.name), manifests: Object.fromEntries(list.map((i) => [i.name, i.manifest])) };
      } catch (e) {
        const err = e as { code: string; message: string; details: Record<string, unknown> };
        return { ok: false as const, code: err.code, message: err.message, details: err.details };
      }
    },
    [manifest, opts, bytes] as const,
  );
}

function installedNames(): Promise<string[]> {
  return page.evaluate(async () => (await window.kernel.modules()).map((m) => m.name).sort());
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('an Extism manifest given to kernel.install', () => {
  it('fetches a url entry, checks its hash, and the plugin gets the manifest config', async () => {
    const r = await installManifest(
      { wasm: [{ url: `${server.url}/modules/vowels.wasm`, hash: VOWELS_SHA256 }], config: { vowels: 'aeiouy' }, timeout_ms: 5000 },
      { name: 'vowels-ext' },
    );
    expect(r).toMatchObject({ ok: true, names: ['vowels-ext'], manifests: { 'vowels-ext': { service: { config: { vowels: 'aeiouy' }, timeout_ms: 5000 } } } });
    expect(await call('vowels-ext', 'count_vowels', 'rhythm and blues')).toEqual({ ok: true, text: '{"count": 4, "total": 4, "vowels": "aeiouy"}' });
  });

  it('names the plugin after its file when no name is given, and asks for its allowed hosts', async () => {
    const r = await installManifest({ wasm: [{ url: `${server.url}/modules/vowels.wasm` }], allowed_hosts: ['api.example.com'] });
    expect(r).toMatchObject({ ok: true, names: ['vowels'] });
    const requested = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'vowels')?.requested);
    expect(requested).toContain('http:api.example.com');
  });

  it('links data entries by name: bytes and base64, the main entry last', async () => {
    const calc = Buffer.from(moduleBytes('calc')).toString('base64');
    const r = await installManifest({ wasm: [{ name: 'math' }, { data: calc }] }, { name: 'calc-ext' }, { 0: moduleBytes('mathlib') });
    expect(r).toMatchObject({ ok: true, names: ['calc-ext.math', 'calc-ext'], manifests: { 'calc-ext': { service: { wasm: [{ name: 'math', module: 'calc-ext.math' }] } } } });
    expect(await call('calc-ext', 'sum', '2 40')).toEqual({ ok: true, text: '42' });
    expect(await call('calc-ext', 'product', '6 7')).toEqual({ ok: true, text: '42' });
  });

  it('an entry named main is the plugin, wherever it stands', async () => {
    const r = await installManifest({ wasm: [{ name: 'main' }, { name: 'math' }] }, { name: 'calc-main' }, { 0: moduleBytes('calc'), 1: moduleBytes('mathlib') });
    expect(r).toMatchObject({ ok: true, names: ['calc-main.math', 'calc-main'] });
    expect(await call('calc-main', 'sum', '1 2')).toEqual({ ok: true, text: '3' });
  });

  it('a file unlike its hash is refused registry/bad-hash, and nothing is installed', async () => {
    const before = await installedNames();
    const r = await installManifest({ wasm: [{ url: `${server.url}/modules/vowels.wasm`, hash: '0'.repeat(64) }] }, { name: 'vowels-bad' });
    expect(r).toMatchObject({ ok: false, code: 'registry/bad-hash', details: { expected: '0'.repeat(64), actual: VOWELS_SHA256 } });
    expect(await installedNames()).toEqual(before);
  });

  it('refuses a path, a url that fails, and malformed manifests, with their codes', async () => {
    expect(await installManifest({ wasm: [{ path: '/plugins/vowels.wasm' }] }, { name: 'p' })).toMatchObject({ ok: false, code: 'kernel/unsupported' });
    expect(await installManifest({ wasm: [{ url: `${server.url}/modules/no-such.wasm` }] }, { name: 'p' })).toMatchObject({ ok: false, code: 'registry/fetch-failed' });
    expect(await installManifest({ wasm: [] }, { name: 'p' })).toMatchObject({ ok: false, code: 'registry/invalid-manifest' });
    expect(await installManifest({ wasm: [{ data: 'AAAA', url: 'x' }] }, { name: 'p' })).toMatchObject({ ok: false, code: 'registry/invalid-manifest' });
    expect(await installManifest({ wasm: [{ data: 'AAAA', hash: 'abc' }] }, { name: 'p' })).toMatchObject({ ok: false, code: 'registry/invalid-manifest' });
    expect(await installManifest({ wasm: [{ data: 'AGFzbQEAAAA=' }], config: { n: 1 } }, { name: 'p' })).toMatchObject({ ok: false, code: 'registry/invalid-manifest' });
  });
});

describe("allowed_paths", () => {
  it("mounts the plugin's home and an empty folder where the manifest says, and nothing else", async () => {
    await page.evaluate(async () => {
      const home = await window.kernel.home('paths');
      const w = await (await home.getFileHandle('in.txt', { create: true })).createWritable();
      await w.write('from the page');
      await w.close();
    });
    const r = await installManifest({ wasm: [{}], allowed_paths: { home: '/data', tmp: '/scratch' } }, { name: 'paths' }, { 0: moduleBytes('pathprobe') });
    expect(r).toMatchObject({ ok: true, manifests: { paths: { service: { allowed_paths: { home: '/data', tmp: '/scratch' } } } } });
    expect(await call('paths', 'load', '/data/in.txt')).toEqual({ ok: true, text: 'from the page' });
    expect(await call('paths', 'save', '/data/out.txt\nfrom the plugin')).toEqual({ ok: true, text: 'ok' });
    const back = await page.evaluate(async () => (await (await (await window.kernel.home('paths')).getFileHandle('out.txt')).getFile()).text());
    expect(back).toBe('from the plugin');
    expect(await call('paths', 'save', '/scratch/a.txt\nscratch')).toEqual({ ok: true, text: 'ok' });
    expect(await call('paths', 'load', '/scratch/a.txt')).toEqual({ ok: true, text: 'scratch' });
    expect(await call('paths', 'load', '/elsewhere/in.txt')).toMatchObject({ ok: false, code: 'service/error', message: 'cannot open /elsewhere/in.txt' });
  });

  it('a host path is refused at install: a page has none to give', async () => {
    const r = await installManifest({ wasm: [{}], allowed_paths: { '/etc': '/etc' } }, { name: 'paths-bad' }, { 0: moduleBytes('pathprobe') });
    expect(r).toMatchObject({ ok: false, code: 'registry/invalid-manifest' });
    expect(r.ok === false && r.message).toContain('allowed_paths');
  });
});
