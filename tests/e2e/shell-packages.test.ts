/**
 * Packages in the shell: a dropped package installs (after the person agrees when no trusted key
 * vouches for it), the Packages view shows its modules, version and signer, and the trusted keys
 * are listed, added and removed there.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { makePackage, newKey, type TestKey } from './package-helpers';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
let key: TestKey;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  key = newKey();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function dropFile(name: string, bytes: number[]): Promise<void> {
  await page.evaluate(
    ([n, b]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], n, { type: 'application/zip' }));
      for (const type of ['dragenter', 'dragover', 'drop']) window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    [name, bytes] as const,
  );
}

/** Answers the permission question of each module in turn with Allow all. */
async function allowAll(modules: string[]): Promise<void> {
  for (const m of modules) {
    await page.waitForFunction((n) => document.querySelector('dialog.grant-dialog[open]')?.textContent?.includes(n) === true, m);
    await page.locator('dialog.grant-dialog .allow-all').click();
  }
  await page.locator('dialog.grant-dialog').waitFor({ state: 'hidden' });
}

const card = (name: string) => page.locator(`webmk-packages li.package[data-name="${name}"]`);

describe('packages in the shell', () => {
  it('asks before installing an unsigned package; Cancel installs nothing', async () => {
    await dropFile('plain.zip', makePackage({ name: 'plain', modules: { 'pl-cat': 'cat', 'pl-wc': 'wc' } }));
    const dialog = page.locator('dialog.untrusted-dialog');
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain('not signed');
    await expect(dialog.locator('.trust-install').count()).resolves.toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await page.evaluate(() => window.kernel.packages())).map((p) => p.name)).not.toContain('plain');
  });

  it('installs it when the person agrees, and shows it as unsigned with its modules', async () => {
    await dropFile('plain.zip', makePackage({ name: 'plain', version: '2.1.0', modules: { 'pl-cat': 'cat', 'pl-wc': 'wc' } }));
    const dialog = page.locator('dialog.untrusted-dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Install anyway' }).click();
    await card('plain').waitFor();
    await expect(card('plain').locator('.meta').textContent()).resolves.toContain('v2.1.0');
    await expect(card('plain').locator('.signer').getAttribute('data-signature')).resolves.toBe('unsigned');
    await expect(card('plain').locator('.package-modules li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.module))).resolves.toEqual(['pl-cat', 'pl-wc']);
    await expect(page.locator('webmk-registry li.module[data-name="pl-cat"] .from-package').textContent()).resolves.toContain('plain');
  });

  it('trusts the signer of a package when asked, then lists the key', async () => {
    await dropFile('signed.zip', makePackage({ name: 'signed', modules: { 'sg-hello': 'hello' } }, key));
    const dialog = page.locator('dialog.untrusted-dialog');
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain('a key you do not trust');
    await page.screenshot({ path: `${SHOTS}/webmk-untrusted-dialog-desktop.png` });
    await dialog.getByRole('button', { name: 'Trust this key and install' }).click();
    await card('signed').waitFor();
    await expect(card('signed').locator('.signer').getAttribute('data-signature')).resolves.toBe('trusted');
    await page.locator(`webmk-packages li.trusted-key[data-key="${key.publicKey}"]`).waitFor();
  });

  it('removing a trusted key shows its packages as signed by a key not trusted; adding it back trusts them again', async () => {
    await page.locator(`webmk-packages li.trusted-key[data-key="${key.publicKey}"] .remove-key`).click();
    await page.waitForFunction(() => document.querySelector('webmk-packages li.package[data-name="signed"] .signer')?.getAttribute('data-signature') === 'untrusted-key');
    await expect(page.locator('webmk-packages li.trusted-key').count()).resolves.toBe(0);
    await page.locator('#add-key-value').fill(key.publicKey);
    await page.locator('#add-key-label').fill('Test publisher');
    await page.getByRole('button', { name: 'Trust key' }).click();
    await page.waitForFunction(() => document.querySelector('webmk-packages li.package[data-name="signed"] .signer')?.getAttribute('data-signature') === 'trusted');
    await expect(card('signed').locator('.signer').textContent()).resolves.toContain('Test publisher');
  });

  it('installs a package signed by a trusted key without asking', async () => {
    await dropFile('signed.zip', makePackage({ name: 'signed', version: '1.1.0', modules: { 'sg-hello': 'hello', 'sg-cat': 'cat' } }, key));
    await page.waitForFunction(() => document.querySelector('webmk-packages li.package[data-name="signed"] .meta')?.textContent?.includes('v1.1.0') === true);
    await expect(page.locator('dialog.untrusted-dialog').isVisible()).resolves.toBe(false);
    await card('signed').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/webmk-packages-desktop.png` });
    await page.setViewportSize({ width: 360, height: 800 });
    await card('signed').scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${SHOTS}/webmk-packages-360.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('installs the example package from the Examples list, asking about its test key first', async () => {
    const example = page.locator('webmk-examples li.example[data-name="sensors"]');
    await example.waitFor();
    await expect(example.textContent()).resolves.toContain('bus trio as one package');
    await example.getByRole('button', { name: 'Install example sensors' }).click();
    const dialog = page.locator('dialog.untrusted-dialog');
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain('a key you do not trust');
    await dialog.getByRole('button', { name: 'Trust this key and install' }).click();
    await card('sensors').waitFor();
    await expect(card('sensors').locator('.signer').getAttribute('data-signature')).resolves.toBe('trusted');
    await expect(card('sensors').locator('.package-modules li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.module))).resolves.toEqual(['ticker', 'fahrenheit', 'logger']);
    await allowAll(['ticker', 'fahrenheit', 'logger']);
    await example.locator('.tag.ok').waitFor();
    await example.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/webmk-example-package-desktop.png` });
  });

  it('shows a process still on the old version after an update', async () => {
    await dropFile('upd.zip', makePackage({ name: 'upd', version: '1.0.0', modules: { updecho: 'updecho-v1' } }, key));
    await card('upd').waitFor();
    await allowAll(['updecho']);
    const pid = await page.evaluate(async () => (await window.kernel.spawn('updecho')).pid);
    await page.waitForFunction((p) => window.kernel.bus.stats().subscriptions.some((x) => x.pid === p), pid);
    await dropFile('upd.zip', makePackage({ name: 'upd', version: '2.0.0', modules: { updecho: 'updecho-v2' } }, key));
    await allowAll(['updecho']);
    const older = card('upd').locator(`.package-modules li[data-module="updecho"] .older[data-pid="${pid}"]`);
    await older.waitFor();
    await expect(older.textContent()).resolves.toContain('on v1.0.0');
    await card('upd').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/webmk-package-update-desktop.png` });
    await page.evaluate((p) => window.kernel.kill(p), pid);
    await older.waitFor({ state: 'detached' });
  });

  it('Uninstall asks first, then removes the package and all its modules', async () => {
    await card('plain').getByRole('button', { name: 'Uninstall package plain' }).click();
    await card('plain').getByRole('button', { name: 'Yes, uninstall' }).click();
    await card('plain').waitFor({ state: 'detached' });
    const names = (await page.evaluate(() => window.kernel.modules())).map((m) => m.name);
    expect(names).not.toContain('pl-cat');
    expect(names).not.toContain('pl-wc');
  });
});
