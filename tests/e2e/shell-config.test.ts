/**
 * The Configure… dialog as a person uses it, in a real Chromium against the built app: reached by
 * keyboard, focus kept inside, Escape changes nothing, Save stores through `kernel.configure`,
 * and after a reload the values are still there and the modules set to start have started (or
 * are reported as not started).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { install } from './kernel-helpers';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.setViewportSize({ width: 1280, height: 900 });
  await install(page, 'crashy-supervised', 'hello');
  await card().waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const dialog = () => page.locator('dialog.config-dialog');
const card = (name = 'crashy-supervised') => page.locator(`webmk-registry li.module[data-name="${name}"]`);
const opener = (name = 'crashy-supervised') => card(name).getByRole('button', { name: `Configure ${name}…` });
const activeInDialog = () => page.evaluate(() => document.querySelector('dialog.config-dialog')?.contains(document.activeElement) === true);

/** What the dialog's fields show. */
function fields() {
  return page.evaluate(() => {
    const d = document.querySelector('dialog.config-dialog') as HTMLDialogElement;
    const v = (id: string) => (d.querySelector(`#${id}`) as HTMLInputElement).value;
    return {
      restart: v('config-restart'),
      intensity: v('config-intensity'),
      intensityDisabled: (d.querySelector('#config-intensity') as HTMLInputElement).disabled,
      watchdog: v('config-watchdog'),
      watchdogPlaceholder: (d.querySelector('#config-watchdog') as HTMLInputElement).placeholder,
      order: v('config-start-order'),
      args: v('config-args'),
      autostart: (d.querySelector('#config-autostart') as HTMLInputElement).checked,
    };
  });
}

async function reload(): Promise<void> {
  await page.reload();
  await waitForKernel(page);
  await card().waitFor();
}

describe('shell: Configure…', () => {
  it('opens from the keyboard, labelled, with focus inside and visible; Tab stays in it; Escape changes nothing', async () => {
    await opener().focus();
    await page.keyboard.press('Enter');
    await dialog().waitFor({ state: 'visible' });
    await expect(dialog().getAttribute('aria-labelledby')).resolves.toBe('config-title');
    await expect(page.locator('#config-title').textContent()).resolves.toBe('Configure crashy-supervised');
    // It starts from the manifest: restart from it, its watchdog as the placeholder, nothing filled in.
    expect(await fields()).toEqual({
      restart: '',
      intensity: '',
      intensityDisabled: true,
      watchdog: '',
      watchdogPlaceholder: '200',
      order: '',
      args: '',
      autostart: false,
    });
    await expect(dialog().getByRole('combobox', { name: 'Restart' }).textContent()).resolves.toContain('As the manifest says (transient)');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('config-mode');
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      expect(await activeInDialog(), `after ${i + 1} Tab presses`).toBe(true);
      await expect(page.evaluate(() => document.activeElement?.matches(':focus-visible'))).resolves.toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
    await expect(opener().evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    const config = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'crashy-supervised')?.config);
    expect(config).toEqual({});
  });

  it('Save stores the configuration through kernel.configure; the card says so', async () => {
    await opener().click();
    await dialog().waitFor({ state: 'visible' });
    await dialog().getByLabel('Restart', { exact: true }).selectOption('permanent');
    await dialog().getByLabel('Restarts allowed (intensity)').fill('2');
    await dialog().getByLabel('Watchdog (ms)').fill('500');
    await dialog().getByLabel('Start order').fill('4');
    await dialog().getByLabel('Arguments').fill('exit 0');
    await dialog().getByLabel('Start when the app opens').check();
    await page.screenshot({ path: `${SHOTS}/webmk-config-dialog-desktop.png` });
    await dialog().getByRole('button', { name: 'Save' }).click();
    await dialog().waitFor({ state: 'hidden' });
    await expect(opener().evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    const config = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'crashy-supervised')?.config);
    expect(config).toEqual({ restart: { restart: 'permanent', intensity: 2 }, watchdogMs: 500, autostart: true, startOrder: 4, args: ['exit', '0'] });
    await expect(card().locator('.config-summary').textContent()).resolves.toContain('starts at boot · order 4 · restart permanent ×2 · watchdog 500 ms');
    // Run prefills the configured args.
    await expect(card().getByLabel('Arguments').inputValue()).resolves.toBe('exit 0');
  });

  it('after a reload the values are still there, and the module started at boot with them', async () => {
    // A second module set to start, whose mode cannot run yet: reported, and the first starts anyway.
    await page.evaluate(() => window.kernel.configure('hello', { autostart: true, startOrder: 1, mode: 'remote' }));
    await reload();
    await page.waitForFunction(() => window.kernel.autostarted() !== undefined);
    const report = await page.evaluate(() => window.kernel.autostarted());
    expect(report?.map((r) => `${r.name}:${r.status}`)).toEqual(['hello:failed', 'crashy-supervised:started']);
    const pid = report?.find((r) => r.status === 'started')?.pid;
    await page.locator('.toast.info', { hasText: `Started at boot: crashy-supervised (pid ${pid})` }).waitFor();
    await page.locator('.toast.error', { hasText: 'Could not start hello at boot: kernel/bad-argument' }).waitFor();
    // It ran with the configured args and policy: permanent, twice restarted after exit 0, then its limit.
    await page.waitForFunction((p) => window.kernel.processes().find((r) => r.pid === p)?.state === 'exited', pid);
    const row = await page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p), pid);
    expect(row).toMatchObject({ args: ['crashy-supervised', 'exit', '0'], restart: 'permanent', watchdogMs: 500, reason: 'restart-limit', incarnation: 3 });

    await expect(card().locator('.config-summary').textContent()).resolves.toContain('starts at boot · order 4');
    await opener().click();
    await dialog().waitFor({ state: 'visible' });
    expect(await fields()).toMatchObject({ restart: 'permanent', intensity: '2', intensityDisabled: false, watchdog: '500', order: '4', args: 'exit 0', autostart: true });
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
  });

  it('where it runs is a choice too: iframe from the dialog, then Run uses it', async () => {
    await opener('hello').click();
    await dialog().waitFor({ state: 'visible' });
    await dialog().getByLabel('Runs in').selectOption('iframe');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await dialog().waitFor({ state: 'hidden' });
    const config = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'hello')?.config);
    expect(config?.mode).toBe('iframe');
    await expect(card('hello').getByLabel('Run hello in').inputValue()).resolves.toBe('iframe');
    const before = await page.locator('webmk-terminal[data-name="hello"]').count();
    await card('hello').getByRole('button', { name: 'Run hello' }).click();
    const win = page.locator('webmk-terminal[data-name="hello"]').nth(before);
    await win.waitFor();
    const pid = Number(await win.getAttribute('data-pid'));
    await page.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.mode === 'iframe', pid);
    await page.evaluate(() => window.kernel.configure('hello', {}));
  });

  it('clearing the fields goes back to the manifest', async () => {
    await opener().click();
    await dialog().waitFor({ state: 'visible' });
    await dialog().getByLabel('Restart', { exact: true }).selectOption('');
    for (const label of ['Watchdog (ms)', 'Start order', 'Arguments']) await dialog().getByLabel(label).fill('');
    await dialog().getByLabel('Start when the app opens').uncheck();
    await dialog().getByRole('button', { name: 'Save' }).click();
    await dialog().waitFor({ state: 'hidden' });
    const config = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'crashy-supervised')?.config);
    expect(config).toEqual({});
    await expect(card().locator('.config-summary').count()).resolves.toBe(0);
  });

  it('at phone width (360px) the dialog fits without horizontal scroll', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await opener().click();
    await dialog().waitFor({ state: 'visible' });
    const box = await dialog().boundingBox();
    expect(box?.width).toBeLessThanOrEqual(360);
    const scrolls = await page.evaluate(() => {
      const d = document.querySelector('dialog.config-dialog') as HTMLElement;
      return d.scrollWidth > d.clientWidth;
    });
    expect(scrolls).toBe(false);
    await page.screenshot({ path: `${SHOTS}/webmk-config-dialog-360.png` });
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    await dialog().waitFor({ state: 'hidden' });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
