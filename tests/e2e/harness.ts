/**
 * End-to-end harness: a plain static server (no COOP/COEP headers, like any static host) that
 * serves the built app under a sub-path, and the system Chromium driven by playwright-core.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export const DIST = resolve(import.meta.dirname, '../../dist');
export const FIXTURES = resolve(import.meta.dirname, '../fixtures');
export const PUBLIC_MODULES = resolve(import.meta.dirname, '../../public/modules');

/** A static server over a folder, mounted at `base`; `root` can be swapped (a new deploy). */
export interface StaticServer {
  url: string;
  root: string;
  requests: string[];
  close(): Promise<void>;
}

export async function startServer(opts: { root?: string; base?: string } = {}): Promise<StaticServer> {
  const base = opts.base ?? '/app/';
  const state: StaticServer = { url: '', root: opts.root ?? DIST, requests: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    state.requests.push(path);
    if (!path.startsWith(base)) {
      res.writeHead(404).end('not found');
      return;
    }
    let file = normalize(join(state.root, path.slice(base.length)));
    if (!file.startsWith(state.root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  state.url = `http://127.0.0.1:${address.port}${base}`;
  state.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return state;
}

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** The Chromium to drive: $CHROME_PATH, else the usual install paths; a clear error if none. */
export function findChromium(): string {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`CHROME_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(
      'No Chromium found. Install one (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
        'or point CHROME_PATH at a Chromium or Chrome binary.',
    );
  }
  return found;
}

/**
 * Chromium flags for tests and benchmarks (headless is set by playwright): no sandbox (root), no
 * GPU, and no background traffic, which this machine's closed network refuses.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh profile; `close()` removes the profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'webmk-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium(),
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the app and waits until it is cross-origin isolated (the service worker's one reload)
 * and `window.kernel.ready` has resolved.
 */
export async function openApp(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  await page.goto(url);
  await waitForKernel(page);
  return page;
}

export async function waitForKernel(page: Page): Promise<void> {
  await page.waitForFunction(() => globalThis.crossOriginIsolated === true, undefined, { timeout: 20_000 });
  await page.waitForFunction(() => 'kernel' in globalThis, undefined, { timeout: 20_000 });
  await page.evaluate(() => (globalThis as unknown as { kernel: { ready: Promise<void> } }).kernel.ready);
}

/** Bytes of a built module (public/modules) or a test fixture (tests/fixtures). */
export function moduleBytes(name: string): number[] {
  for (const dir of [PUBLIC_MODULES, FIXTURES]) {
    for (const file of [`${name}.wasm`, `${name}.js`]) {
      const p = join(dir, file);
      if (existsSync(p)) return [...readFileSync(p)];
    }
  }
  throw new Error(`no module ${name}.wasm or ${name}.js in public/modules or tests/fixtures`);
}

/**
 * Shows a view of the shell's workbench by its name in the activity bar: Modules, Processes, Bus,
 * Services and store, Files, Nodes, Settings (and Terminals on a narrow screen). One view shows at a time.
 */
export async function showView(page: Page, name: 'Modules' | 'Processes' | 'Bus' | 'Services and store' | 'Files' | 'Nodes' | 'Settings' | 'Terminals'): Promise<void> {
  const tab = page.getByRole('tab', { name, exact: true });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  await page.locator(`[role="tab"][aria-label="${name}"][aria-selected="true"]`).waitFor();
}
