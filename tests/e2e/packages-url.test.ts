/**
 * Installing by URL (`kernel.install(url)`, `?install=`), what a failed fetch says, and exporting
 * a package: export and re-import give the same modules, manifest and signature.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { registryState } from './package-helpers';

const SENSORS = readFileSync(resolve(import.meta.dirname, '../../public/modules/sensors.zip'));

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
/** Another origin: one path answers with CORS, another without. */
let other: Server;
let otherUrl: string;

beforeAll(async () => {
  server = await startServer();
  other = createServer((req, res) => {
    if (req.url === '/cors/sensors.zip') res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'application/zip' }).end(SENSORS);
    else if (req.url === '/plain/sensors.zip') res.writeHead(200, { 'content-type': 'application/zip' }).end(SENSORS);
    else res.writeHead(404, { 'access-control-allow-origin': '*' }).end('not found');
  });
  await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok));
  const addr = other.address();
  otherUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await new Promise<void>((ok) => (other ? other.close(() => ok()) : ok()));
});

function installUrl(url: string, opts: Record<string, unknown> = {}): Promise<{ names?: string[]; code?: string; details?: Record<string, unknown>; progress: number[] }> {
  return page.evaluate(
    async ([u, o]) => {
      const progress: number[] = [];
      return window.kernel.install(u, { ...o, onProgress: (p) => progress.push(p.loaded) }).then(
        (r) => ({ names: (Array.isArray(r) ? r : [r]).map((m) => m.name), progress }),
        (e: { code: string; details: Record<string, unknown> }) => ({ code: e.code, details: JSON.parse(JSON.stringify(e.details)) as Record<string, unknown>, progress }),
      );
    },
    [url, opts] as const,
  );
}

describe('install by URL', () => {
  it('fetches a package from the app itself, with progress', async () => {
    const r = await installUrl('modules/sensors.zip', { untrusted: true });
    expect(r.names).toEqual(['ticker', 'fahrenheit', 'logger']);
    expect(r.progress.at(-1)).toBe(SENSORS.length);
    await page.evaluate(() => window.kernel.uninstall('sensors'));
  });

  it('fetches from another origin that allows it (CORS)', async () => {
    expect((await installUrl(`${otherUrl}/cors/sensors.zip`, { untrusted: true })).names).toEqual(['ticker', 'fahrenheit', 'logger']);
    await page.evaluate(() => window.kernel.uninstall('sensors'));
  });

  it('says when another origin does not allow it, or the server answers an error, and changes nothing', async () => {
    const before = await registryState(page);
    const cors = await installUrl(`${otherUrl}/plain/sensors.zip`, { untrusted: true });
    expect(cors.code).toBe('registry/fetch-failed');
    const missing = await installUrl(`${otherUrl}/cors/nothing.zip`, { untrusted: true });
    expect(missing).toMatchObject({ code: 'registry/fetch-failed', details: { status: 404 } });
    expect((await installUrl('ftp://example.org/x.zip')).code).toBe('kernel/bad-argument');
    expect(await registryState(page)).toEqual(before);
  });

  it('installs what ?install= names, after the person agrees, and drops the parameter from the address', async () => {
    await page.goto(`${server.url}?install=${encodeURIComponent(`${otherUrl}/cors/sensors.zip`)}`);
    await waitForKernel(page);
    const dialog = page.locator('dialog.untrusted-dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Install anyway' }).click();
    await page.locator('webmk-packages li.package[data-name="sensors"]').waitFor();
    expect(page.url()).not.toContain('install=');
  });
});

describe('export', () => {
  it('gives a zip that installs again as it was: same modules, manifest and signature', async () => {
    const exported = await page.evaluate(async () => [...(await window.kernel.exportPackage('sensors'))]);
    const files = unzipSync(new Uint8Array(exported));
    const original = unzipSync(new Uint8Array(SENSORS));
    expect(Object.keys(files).sort()).toEqual(Object.keys(original).sort());
    for (const [path, bytes] of Object.entries(original)) expect(Buffer.from(files[path] as Uint8Array).equals(Buffer.from(bytes)), path).toBe(true);
    const before = await page.evaluate(async () => ({
      modules: (await window.kernel.modules()).map((m) => `${m.name}:${m.sha256}`).sort(),
      pkg: (await window.kernel.packages()).find((p) => p.name === 'sensors'),
    }));
    await page.evaluate(() => window.kernel.uninstall('sensors'));
    await page.evaluate(async (b) => window.kernel.install(new Uint8Array(b), { untrusted: true }), exported);
    const after = await page.evaluate(async () => ({
      modules: (await window.kernel.modules()).map((m) => `${m.name}:${m.sha256}`).sort(),
      pkg: (await window.kernel.packages()).find((p) => p.name === 'sensors'),
    }));
    expect(after.modules).toEqual(before.modules);
    expect({ ...after.pkg, installedAt: 0 }).toEqual({ ...before.pkg, installedAt: 0 });
  });

  it('exports a module installed alone as a package of one', async () => {
    const files = await page.evaluate(async () => {
      const bytes = new Uint8Array(await (await fetch('modules/hello.wasm')).arrayBuffer());
      await window.kernel.install(bytes, { name: 'solo' });
      return [...(await window.kernel.exportPackage('solo'))];
    });
    const unzipped = unzipSync(new Uint8Array(files));
    expect(Object.keys(unzipped).sort()).toEqual(['solo.wasm', 'webmk.json']);
    expect(JSON.parse(new TextDecoder().decode(unzipped['webmk.json']))).toMatchObject({ name: 'solo', modules: [{ name: 'solo', file: 'solo.wasm' }] });
    expect((await page.evaluate(() => window.kernel.exportPackage('nobody').then(() => 'ok', (e: { code: string }) => e.code)))).toBe('registry/not-found');
  });
});
