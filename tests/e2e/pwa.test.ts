/**
 * The built app as a PWA on a plain static server (no COOP/COEP headers): the service worker
 * makes it cross-origin isolated with at most one reload, serves it offline, installs cleanly,
 * and takes a new deploy only when asked. Needs `npm run build` first (dist/).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DIST, findChromium, launchBrowser, startServer, type StaticServer, type TestBrowser } from './harness';

/** What the tests read from the page (`window.webmkBoot`, see src/boot). */
interface ProbeBoot extends EventTarget {
  status: { isolated: boolean; serviceWorker: string; reason?: string };
  updateAvailable: boolean;
  applyUpdate(): void;
}
type ProbeWindow = Window & { webmkBoot?: ProbeBoot; updatesSeen?: number };

const GUARD_KEY = 'webmk:isolation-reload';
const DEPLOY_MARKER = '<meta name="webmk-deploy" content="2">';

let browser: TestBrowser | undefined;
let server: StaticServer | undefined;
const cleanups: Array<() => void> = [];

beforeAll(() => {
  if (!existsSync(join(DIST, 'sw.js')) || !existsSync(join(DIST, 'index.html'))) {
    throw new Error(`no built app in ${DIST}: run \`npm run build\` first`);
  }
});

afterEach(async () => {
  await browser?.close();
  await server?.close();
  browser = undefined;
  server = undefined;
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A page whose main-frame navigations (first load and reloads) are counted. */
interface CountedPage {
  page: Page;
  navigations(): number;
}

async function newCountedPage(context: BrowserContext): Promise<CountedPage> {
  const page = await context.newPage();
  let count = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) count += 1;
  });
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  return { page, navigations: () => count };
}

/** Waits until `boot()` has settled on an isolated page controlled by the service worker. */
async function waitForIsolatedBoot(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const b = (window as ProbeWindow).webmkBoot;
      return (
        crossOriginIsolated &&
        navigator.serviceWorker.controller !== null &&
        b !== undefined &&
        b.status.isolated &&
        b.status.serviceWorker === 'active'
      );
    },
    undefined,
    { timeout: 30_000 },
  );
}

async function bootStatus(page: Page): Promise<ProbeBoot['status'] | undefined> {
  return page.evaluate(() => (window as ProbeWindow).webmkBoot?.status);
}

/** Gives a (wrong) extra reload the chance to happen before counting navigations. */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.waitForTimeout(750);
}

function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.subarray(0, 8).equals(signature)).toBe(true);
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => relative(dir, join(dir, p)).split('\\').join('/'));
}

function md5(bytes: Buffer | string): string {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * A second deploy of the same build, as a rebuild would produce it: index.html changed (it
 * carries DEPLOY_MARKER), and sw.js precaches it under its new revision.
 */
function newDeploy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'webmk-deploy-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(DIST, dir, { recursive: true });
  const oldHtml = readFileSync(join(dir, 'index.html'));
  const newHtml = oldHtml.toString('utf8').replace('<head>', `<head>\n    ${DEPLOY_MARKER}`);
  expect(newHtml).toContain(DEPLOY_MARKER);
  writeFileSync(join(dir, 'index.html'), newHtml);
  const sw = readFileSync(join(dir, 'sw.js'), 'utf8');
  const oldEntry = `"revision":"${md5(oldHtml)}","url":"index.html"`;
  // The worker precaches the shell by content hash; a rebuild changes exactly this.
  expect(sw.split(oldEntry)).toHaveLength(2);
  writeFileSync(join(dir, 'sw.js'), sw.replace(oldEntry, `"revision":"${md5(newHtml)}","url":"index.html"`));
  return dir;
}

describe('the built app on a static server without isolation headers', () => {
  test('becomes cross-origin isolated under /app/ with at most one reload, and never loops', async () => {
    server = await startServer({ base: '/app/' });
    browser = await launchBrowser();
    const first = await newCountedPage(browser.context);
    await first.page.goto(server.url);
    await waitForIsolatedBoot(first.page);
    await settle(first.page);

    expect(first.navigations()).toBeLessThanOrEqual(2);
    expect(await bootStatus(first.page)).toEqual({ isolated: true, serviceWorker: 'active' });
    expect(await first.page.evaluate((key) => sessionStorage.getItem(key) !== null, GUARD_KEY)).toBe(
      first.navigations() === 2,
    );
    const scope = await first.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope);
    expect(scope).toBe(server.url);
    expect(await first.page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');

    // A second tab is served by the worker from the start: no reload at all.
    const second = await newCountedPage(browser.context);
    await second.page.goto(server.url);
    await waitForIsolatedBoot(second.page);
    await settle(second.page);
    expect(second.navigations()).toBe(1);
  }, 60_000);

  test('a hard reload that skips the worker reports "not isolated" instead of reloading again', async () => {
    server = await startServer({ base: '/app/' });
    browser = await launchBrowser();
    const { page, navigations } = await newCountedPage(browser.context);
    await page.goto(server.url);
    await waitForIsolatedBoot(page);
    await settle(page);
    // Force the guard to be used even if the first load needed no reload.
    await page.evaluate((key) => sessionStorage.setItem(key, 'used'), GUARD_KEY);
    const before = navigations();

    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Page.reload', { ignoreCache: true });
    await page.waitForFunction(() => (window as ProbeWindow).webmkBoot?.status.reason !== undefined, undefined, {
      timeout: 30_000,
    });
    await settle(page);

    expect(navigations()).toBe(before + 1);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const status = await bootStatus(page);
    expect(status?.isolated).toBe(false);
    expect(status?.serviceWorker).toBe('active');
    expect(status?.reason).toMatch(/not cross-origin isolated/);
    // The page says so plainly, and the kernel still answers (installing needs no shared memory).
    await page.waitForFunction(() => document.body.innerText.includes('SharedArrayBuffer is unavailable'));
    expect(await page.evaluate(() => 'kernel' in window && Array.isArray(window.kernel.processes()))).toBe(true);
    const spawnCode = await page.evaluate(() => window.kernel.spawn('hello').catch((e: { code: string }) => e.code));
    expect(spawnCode).toBe('kernel/not-isolated');
  }, 60_000);

  test('without service workers (plain http), boot reports why and does not reload', async () => {
    server = await startServer({ base: '/app/' });
    const port = new URL(server.url).port;
    // A hostname that is not localhost makes plain http an insecure context: no service worker.
    const plain = await chromium.launch({
      executablePath: findChromium(),
      args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP webmk.test 127.0.0.1'],
    });
    cleanups.push(() => void plain.close());
    const { page, navigations } = await newCountedPage(await plain.newContext());
    await page.goto(`http://webmk.test:${port}/app/`);
    await page.waitForFunction(() => (window as ProbeWindow).webmkBoot?.status.reason !== undefined);
    await settle(page);

    expect(navigations()).toBe(1);
    const status = await bootStatus(page);
    expect(status?.isolated).toBe(false);
    expect(status?.serviceWorker).toBe('unsupported');
    expect(status?.reason).toMatch(/https or localhost/);
    await plain.close();
  }, 60_000);

  test('works offline after the first load: every built file is served, still isolated', async () => {
    server = await startServer({ base: '/app/' });
    browser = await launchBrowser();
    const { page } = await newCountedPage(browser.context);
    await page.goto(server.url);
    await waitForIsolatedBoot(page);
    await server.close();
    server = undefined;

    await page.reload();
    await waitForIsolatedBoot(page);
    expect(await page.evaluate(() => document.querySelector('webmk-desktop') !== null)).toBe(true);

    // The app's URL with a query (as a launch or a shared link has) gets the shell too.
    const launched = await newCountedPage(browser.context);
    await launched.page.goto(new URL('./?file=hello.wasm', page.url()).href);
    await waitForIsolatedBoot(launched.page);

    const files = filesUnder(DIST).filter((f) => f !== 'sw.js');
    expect(files).toContain('index.html');
    expect(files).toContain('manifest.webmanifest');
    const served = await page.evaluate(async (paths) => {
      const sizes: Record<string, number> = {};
      for (const path of paths) {
        const response = await fetch(path);
        sizes[path] = response.ok ? (await response.arrayBuffer()).byteLength : -response.status;
      }
      return sizes;
    }, files);
    for (const file of files) expect(served[file], file).toBe(statSync(join(DIST, file)).size);
  }, 60_000);

  test('is installable: no installability errors, file handler for .wasm, real 192/512 PNG icons', async () => {
    server = await startServer({ base: '/app/' });
    browser = await launchBrowser();
    const { page } = await newCountedPage(browser.context);
    await page.goto(server.url);
    await waitForIsolatedBoot(page);

    const cdp = await browser.context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: Array<{ errorId: string }>;
    };
    expect(installabilityErrors).toEqual([]);
    const app = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[]; data?: string };
    expect(app.errors).toEqual([]);
    expect(app.url).toBe(new URL('manifest.webmanifest', server.url).href);

    const manifest = JSON.parse(app.data ?? '') as {
      name: string;
      display: string;
      start_url: string;
      scope: string;
      icons: Array<{ src: string; sizes: string; type: string; purpose?: string }>;
      file_handlers: unknown;
      share_target: unknown;
      protocol_handlers: unknown;
    };
    expect(manifest.name).toBe('webmk');
    expect(manifest.display).toBe('standalone');
    expect(new URL(manifest.start_url, app.url).href).toBe(server.url);
    expect(new URL(manifest.scope, app.url).href).toBe(server.url);
    expect(manifest.file_handlers).toEqual([{ action: './', accept: { 'application/wasm': ['.wasm'], 'application/zip': ['.zip'] } }]);
    // Shared links and web+webmk: links arrive as ?install=<url> (src/shell/install-link.ts).
    expect(manifest.share_target).toEqual({ action: './', method: 'GET', enctype: 'application/x-www-form-urlencoded', params: { url: 'install', text: 'shared' } });
    expect(manifest.protocol_handlers).toEqual([{ protocol: 'web+webmk', url: './?install=%s' }]);
    for (const size of [192, 512]) {
      const icon = manifest.icons.find((i) => i.sizes === `${size}x${size}` && i.type === 'image/png');
      expect(icon, `${size}px icon`).toBeDefined();
      const response = await fetch(new URL(icon?.src ?? '', app.url));
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(pngSize(Buffer.from(await response.arrayBuffer()))).toEqual({ width: size, height: size });
    }
  }, 60_000);

  test('a new deploy is announced, not mixed in, and taken only by applyUpdate()', async () => {
    const next = newDeploy();
    server = await startServer({ base: '/app/' });
    browser = await launchBrowser();
    const { page, navigations } = await newCountedPage(browser.context);
    await page.goto(server.url);
    await waitForIsolatedBoot(page);
    await page.evaluate(() => {
      const w = window as ProbeWindow;
      w.updatesSeen = 0;
      w.webmkBoot?.addEventListener('update-available', () => {
        w.updatesSeen = (w.updatesSeen ?? 0) + 1;
      });
    });
    const deployed = async (): Promise<{ page: boolean; shell: boolean }> =>
      page.evaluate(async (marker) => ({
        page: document.querySelector('meta[name="webmk-deploy"]') !== null,
        shell: (await (await fetch('./')).text()).includes(marker),
      }), DEPLOY_MARKER);

    server.root = next;
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await page.waitForFunction(() => (window as ProbeWindow).updatesSeen === 1, undefined, { timeout: 30_000 });
    expect(await page.evaluate(() => (window as ProbeWindow).webmkBoot?.updateAvailable)).toBe(true);
    expect(await deployed()).toEqual({ page: false, shell: false });

    // A plain reload keeps the old version (its worker still controls) and is told again.
    await page.reload();
    await waitForIsolatedBoot(page);
    await page.waitForFunction(() => (window as ProbeWindow).webmkBoot?.updateAvailable === true);
    expect(await deployed()).toEqual({ page: false, shell: false });
    await settle(page);
    const beforeApply = navigations();

    const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
    await page.evaluate(() => (window as ProbeWindow).webmkBoot?.applyUpdate());
    await reloaded;
    await waitForIsolatedBoot(page);
    await settle(page);

    expect(navigations()).toBe(beforeApply + 1);
    expect(await deployed()).toEqual({ page: true, shell: true });
    expect(await page.evaluate(() => (window as ProbeWindow).webmkBoot?.updateAvailable)).toBe(false);
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting === null)).toBe(true);
  }, 90_000);

  test('also works at the root path /: isolated, scope /, offline reload', async () => {
    server = await startServer({ base: '/' });
    browser = await launchBrowser();
    const { page, navigations } = await newCountedPage(browser.context);
    await page.goto(server.url);
    await waitForIsolatedBoot(page);
    await settle(page);
    expect(navigations()).toBeLessThanOrEqual(2);
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope);
    expect(scope).toBe(server.url);
    expect(new URL(server.url).pathname).toBe('/');

    await server.close();
    server = undefined;
    await page.reload();
    await waitForIsolatedBoot(page);
    expect(await bootStatus(page)).toEqual({ isolated: true, serviceWorker: 'active' });
  }, 60_000);
});
