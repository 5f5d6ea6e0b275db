/**
 * Hibernate, Resume and Move to… in the shell, as a person uses them in a real Chromium: an
 * interactive program typed into in its terminal, made migratable from its Configure… dialog,
 * moved to an iframe, hibernated, the page reloaded (shown hibernated), resumed from the process
 * list into a new terminal, and typed into again with its state intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, showView, startServer, type StaticServer, type TestBrowser, waitForKernel } from './harness';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'accum' });
  }, moduleBytes('accum'));
  await card().waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const card = () => page.locator('webmk-registry li.module[data-name="accum"]');
const row = (pid: number) => page.locator(`webmk-processes tr[data-pid="${pid}"]`);
const terminal = (pid: number) => page.locator(`webmk-terminal[data-pid="${pid}"]`);

function waitText(pid: number, needle: string): Promise<unknown> {
  return page.waitForFunction(
    ({ pid, needle }) => {
      const el = document.querySelector(`webmk-terminal[data-pid="${pid}"]`) as unknown as { text?: string } | null;
      return el?.text?.includes(needle) === true;
    },
    { pid, needle },
    { timeout: 30_000 },
  );
}

async function typeLine(pid: number, line: string): Promise<void> {
  await terminal(pid).locator('textarea').focus();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

function waitState(pid: number, state: string): Promise<unknown> {
  return page.waitForFunction(([p, s]) => window.kernel.processes().find((r) => r.pid === p)?.state === s, [pid, state] as const, { timeout: 30_000 });
}

describe('hibernate and move from the shell', () => {
  it('makes a module migratable from its Configure… dialog', async () => {
    await card().getByRole('button', { name: 'Configure accum…' }).click();
    const box = page.locator('dialog.config-dialog #config-migratable');
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await page.locator('dialog.config-dialog button.save').click();
    // The dialog closes once the instrumented bytes are stored.
    await page.locator('dialog.config-dialog').waitFor({ state: 'hidden', timeout: 120_000 });
    const info = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'accum'));
    expect(info?.migratable?.sha256).toMatch(/^[0-9a-f]{64}$/);
    await card().locator('.config-summary', { hasText: 'migratable' }).waitFor();
  }, 150_000);

  it('moves, hibernates, survives a reload and resumes into a new terminal', async () => {
    await card().getByRole('button', { name: 'Run accum' }).click();
    const win = page.locator('webmk-terminal[data-name="accum"]').first();
    await win.waitFor();
    const pid = Number(await win.getAttribute('data-pid'));
    await waitText(pid, 'ready');
    await typeLine(pid, '10');
    await waitText(pid, 'n=1 total=10 ');

    await showView(page, 'Processes');
    await row(pid).getByLabel(`Move accum (pid ${pid}) to another mode`).selectOption('iframe');
    await page.waitForFunction((p) => window.kernel.processes().find((r) => r.pid === p)?.mode === 'iframe', pid);
    await waitState(pid, 'running');
    await typeLine(pid, '20');
    await waitText(pid, 'n=2 total=30 ');

    await row(pid).getByRole('button', { name: `Hibernate accum (pid ${pid})` }).click();
    await waitState(pid, 'hibernated');
    // The row shows it at its next render.
    await row(pid).locator('.state', { hasText: 'hibernated' }).waitFor();
    await page.screenshot({ path: `${SHOTS}/webmk-process-hibernated-desktop.png` });

    await page.reload();
    await waitForKernel(page);
    await row(pid).locator('.state', { hasText: 'hibernated' }).waitFor();
    await row(pid).getByRole('button', { name: `Resume accum (pid ${pid})` }).click();
    await terminal(pid).waitFor();
    await waitState(pid, 'running');
    await typeLine(pid, '12');
    await waitText(pid, 'n=3 total=42 ');
    await page.screenshot({ path: `${SHOTS}/webmk-process-resumed-desktop.png` });
    await page.setViewportSize({ width: 360, height: 800 });
    await row(pid).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/webmk-process-list-360.png` });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.evaluate((p) => window.kernel.kill(p), pid);
  }, 120_000);

  it('with a hundred and more processes, lists the 100 newest with a count by state, and all on request', async () => {
    const pids = await page.evaluate(async () => {
      const k = window.kernel;
      k.setAutoHibernate({ maxLive: 8 });
      const out: number[] = [];
      for (let i = 0; i < 110; i++) {
        const p = await k.spawn('accum', {});
        const r = p.stdout.getReader();
        let text = '';
        while (!text.includes('ready')) text += new TextDecoder().decode((await r.read()).value);
        r.releaseLock();
        out.push(p.pid);
      }
      return out;
    });
    const total = await page.evaluate(() => window.kernel.processes().length);
    const more = page.locator('webmk-processes .more-processes');
    await more.waitFor();
    await page.waitForFunction((n) => document.querySelector('webmk-processes .more-processes')?.textContent?.includes(`${n} processes`) === true, total);
    expect(await more.textContent()).toMatch(/\d+ hibernated/);
    // The status line counts them apart from those that run.
    await page.locator('.statusline', { hasText: /\d+ running · \d+ hibernated/ }).waitFor();
    expect(await page.locator('webmk-processes tbody tr').count()).toBe(100);
    // The newest first: the last one started is drawn, the first is not.
    expect(await row(pids[pids.length - 1] ?? 0).count()).toBe(1);
    expect(await row(pids[0] ?? 0).count()).toBe(0);
    await more.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/webmk-process-list-more.png` });
    await more.getByRole('button', { name: 'Show all' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('webmk-processes tbody tr').length === n, total);
    await page.evaluate(async (ps) => {
      window.kernel.setAutoHibernate(null);
      await Promise.all(ps.map((p) => window.kernel.kill(p)));
    }, pids);
  }, 180_000);
});

