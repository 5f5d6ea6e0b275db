/**
 * Faults across tabs and storage (issue 14): a tab closed in the middle of an install, two tabs
 * installing the same name at once, two tabs spawning and killing at once. For each, the suite
 * proves the registry is whole afterwards (every module's stored bytes hash to its recorded
 * sha-256, no blob without a module), the tabs that stay still run and answer, and no process is
 * left in `starting`; and a new deploy arriving mid-session, whose files replace the running
 * version's: the session goes on whole on the version it started with. A full disk mid-install is
 * quota.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DIST, launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install } from './kernel-helpers';
import { HEALTHY, health, makeBig, startBystander, stored } from './fault-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'cat', 'hello', 'spin');
  await startBystander(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Every module's bytes are there and hash to what its record says; no blob is left without a module. */
function expectWhole(s: Awaited<ReturnType<typeof stored>>): void {
  for (const m of s.modules) expect(m.stored).toBe(m.sha256);
  expect(s.blobs).toEqual([...new Set(s.modules.map((m) => m.sha256))].sort());
}

it('survives a tab closed in the middle of an install: the next open finds the module whole or not at all', async () => {
  const before = await stored(page);
  const outcomes: string[] = [];
  // Each round closes the tab a little later into the install, so some rounds close it before the
  // bytes are stored and some while or after they are; every round must leave the registry whole.
  for (let round = 0; round < 4; round++) {
    const tab = await openApp(browser.context, server.url);
    const sha = await makeBig(tab, moduleBytes('hello'), 16, round + 1);
    await tab.evaluate(async (waits) => {
      void window.kernel.install((window as unknown as { __big: Uint8Array }).__big, { name: 'big' });
      for (let i = 0; i < waits; i++) await new Promise((ok) => setTimeout(ok, 0));
    }, round * 20);
    await tab.close();
    const again = await openApp(browser.context, server.url);
    const s = await stored(again);
    expectWhole(s);
    const big = s.modules.find((m) => m.name === 'big');
    outcomes.push(big === undefined ? 'absent' : big.sha256 === sha ? 'whole' : 'earlier round');
    if (big !== undefined) {
      const r = await again.evaluate(async () => {
        const p = await window.kernel.spawn('big');
        await p.stdin.close();
        return { out: await new Response(p.stdout).text(), code: await p.exit };
      });
      expect(r.code).toBe(0);
      expect(r.out.startsWith('hello, world\n')).toBe(true);
    }
    await again.close();
  }
  await page.evaluate(() => window.kernel.uninstall('big').catch(() => undefined));
  expect((await stored(page)).modules.map((m) => m.name)).toEqual(before.modules.map((m) => m.name));
  expect(await health(page)).toEqual(HEALTHY);
});

it('survives two tabs installing the same name at once: one whole module of that name, no stray blob', async () => {
  const other = await openApp(browser.context, server.url);
  const shaA = await makeBig(page, moduleBytes('hello'), 4, 101);
  const shaB = await makeBig(other, moduleBytes('hello'), 4, 202);
  const installTwin = (p: Page) =>
    p.evaluate(() =>
      window.kernel.install((window as unknown as { __big: Uint8Array }).__big, { name: 'twin' }).then(
        (m) => m.sha256,
        (e: { code: string }) => e.code,
      ),
    );
  const results = await Promise.all([installTwin(page), installTwin(other)]);
  expect(results.sort()).toEqual([shaA, shaB].sort());
  const s = await stored(page);
  expectWhole(s);
  const twins = s.modules.filter((m) => m.name === 'twin');
  expect(twins).toHaveLength(1);
  expect([shaA, shaB]).toContain(twins[0]?.sha256);
  // Both tabs list the same module (the other tab heard of the last install).
  await other.waitForFunction(async (sha) => (await window.kernel.modules()).find((m) => m.name === 'twin')?.sha256 === sha, twins[0]?.sha256);
  await page.waitForFunction(async (sha) => (await window.kernel.modules()).find((m) => m.name === 'twin')?.sha256 === sha, twins[0]?.sha256);
  await other.close();
  await page.evaluate(() => window.kernel.uninstall('twin'));
  expectWhole(await stored(page));
  expect(await health(page)).toEqual(HEALTHY);
});

it('survives two tabs spawning and killing the same module at once: each kills only its own, none left starting', async () => {
  const other = await openApp(browser.context, server.url);
  await startBystander(other);
  const churn = (p: Page) =>
    p.evaluate(async () => {
      const k = window.kernel;
      const handles = await Promise.all(Array.from({ length: 8 }, () => k.spawn('spin')));
      // Kill each as it was spawned, some while they may still be starting, all at once.
      await Promise.all(handles.map((h) => k.kill(h.pid)));
      const codes = await Promise.all(handles.map((h) => h.exit));
      const rows = handles.map((h) => k.processes().find((x) => x.pid === h.pid));
      return { codes, reasons: rows.map((r) => r?.reason), pids: handles.map((h) => h.pid) };
    });
  const [mine, theirs] = await Promise.all([churn(page), churn(other)]);
  for (const r of [mine, theirs]) {
    expect(r.codes).toEqual(Array(8).fill(137));
    expect(r.reasons).toEqual(Array(8).fill('killed'));
  }
  // Pids are per tab: the other tab's kills of the same numbers touched nothing here, and the
  // bystanders of both tabs still answer.
  expect(await health(other)).toEqual(HEALTHY);
  expect(await health(page)).toEqual(HEALTHY);
  await other.close();
});

it('survives a new deploy arriving mid-session: running processes go on, new workers still start from the old version', async () => {
  // The next deploy: index.html changed (so the service worker has an update to install) and the
  // worker's script renamed, as a rebuild renames it: the old one is gone from the server.
  const next = mkdtempSync(join(tmpdir(), 'webmk-deploy-'));
  try {
    cpSync(DIST, next, { recursive: true });
    const html = readFileSync(join(next, 'index.html'), 'utf8');
    writeFileSync(join(next, 'index.html'), html.replace('<head>', '<head>\n    <meta name="webmk-deploy" content="faults">'));
    const entry = readdirSync(join(next, 'assets')).find((f) => f.startsWith('worker-entry-'));
    if (entry === undefined) throw new Error('no worker entry in the build');
    rmSync(join(next, 'assets', entry));
    const sw = readFileSync(join(next, 'sw.js'), 'utf8').replace(/"revision":"[0-9a-f]+","url":"index.html"/, '"revision":"faults","url":"index.html"');
    writeFileSync(join(next, 'sw.js'), sw);
    const spinner = await page.evaluate(async () => (await window.kernel.spawn('spin')).pid);
    server.root = next;
    await page.evaluate(async () => {
      const boot = (window as unknown as { webmkBoot: EventTarget & { updateAvailable: boolean } }).webmkBoot;
      const seen = new Promise((ok) => boot.addEventListener('update-available', ok, { once: true }));
      await (await navigator.serviceWorker.getRegistration())?.update();
      if (!boot.updateAvailable) await seen;
    });
    // A module never started in this session needs a new worker, from the old version's script.
    await install(page, 'wc');
    const wc = await page.evaluate(async () => {
      const p = await window.kernel.spawn('wc', { stdin: new TextEncoder().encode('one two\n') });
      return { out: (await new Response(p.stdout).text()).trim().split(/\s+/), code: await p.exit };
    });
    expect(wc).toEqual({ out: ['1', '2', '8'], code: 0 });
    expect(await page.evaluate((p) => window.kernel.processes().find((x) => x.pid === p)?.state, spinner)).toBe('running');
    expect(await health(page)).toEqual(HEALTHY);
    await page.evaluate((p) => window.kernel.kill(p), spinner);
  } finally {
    server.root = DIST;
    rmSync(next, { recursive: true, force: true });
  }
});
