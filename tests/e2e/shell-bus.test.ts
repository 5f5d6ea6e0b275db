/**
 * The shell's permissions, bus view and pipelines, in a real Chromium against the built app
 * (`npx vite build` first): the grant dialog at install, refused attempts, the Permissions…
 * dialog, a typed pipeline in one window, topics and subscriptions while a module listens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, showView, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.setViewportSize({ width: 1280, height: 900 });
  await install(page, 'hello', 'wc', 'seq', 'grep');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function dropFile(name: string, bytes: number[]): Promise<void> {
  await page.evaluate(
    ({ name, bytes }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'application/wasm' }));
      for (const type of ['dragenter', 'dragover', 'drop']) {
        window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    },
    { name, bytes },
  );
}

/** Types a line into the command line, presses Enter, and returns the new window's first pid. */
async function command(line: string): Promise<number> {
  const before = await page.locator('webmk-terminal').count();
  await page.locator('#command-input').fill(line);
  await page.locator('#command-input').press('Enter');
  const win = page.locator('webmk-terminal').nth(before);
  await win.waitFor();
  return Number(await win.getAttribute('data-pid'));
}

function terminalText(pid: number): Promise<string> {
  return page.locator(`webmk-terminal[data-pid="${pid}"]`).evaluate((el) => (el as HTMLElement & { text: string }).text);
}

async function waitForTerminalText(pid: number, needle: string | RegExp): Promise<string> {
  const pattern = typeof needle === 'string' ? { source: needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags: '' } : { source: needle.source, flags: needle.flags };
  try {
    await page.waitForFunction(
      ({ pid, pattern }) => {
        const el = document.querySelector(`webmk-terminal[data-pid="${pid}"]`) as (HTMLElement & { text: string }) | null;
        return el !== null && new RegExp(pattern.source, pattern.flags).test(el.text);
      },
      { pid, pattern },
      { timeout: 15_000 },
    );
  } catch (e) {
    throw new Error(`terminal ${pid} never showed ${String(needle)}; it shows:\n${await terminalText(pid)}`, { cause: e });
  }
  return terminalText(pid);
}

async function openBusView(): Promise<void> {
  await showView(page, 'Bus');
  await page.locator('#bus-body').getByRole('heading', { name: 'Topics', exact: true }).waitFor();
}

const dialog = () => page.locator('dialog.grant-dialog');

describe('shell: permissions, bus view, pipelines', () => {
  it('dropping a module that asks for permissions opens the dialog with nothing ticked; Deny all grants nothing', async () => {
    await dropFile('bustool.wasm', moduleBytes('bustool'));
    await dialog().waitFor({ state: 'visible', timeout: 10_000 });
    await expect(dialog().locator('h2').textContent()).resolves.toContain('bustool asks for permission');
    const boxes = dialog().getByRole('checkbox');
    const requested = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'bustool')?.requested ?? []);
    expect(requested.length).toBeGreaterThan(0);
    await expect(boxes.count()).resolves.toBe(requested.length);
    for (let i = 0; i < requested.length; i += 1) await expect(boxes.nth(i).isChecked()).resolves.toBe(false);
    // Each in words, focus inside the dialog, on the first choice.
    await expect(dialog().textContent()).resolves.toContain('send messages on "test/*"');
    await expect(boxes.first().evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await page.screenshot({ path: `${SHOTS}/webmk-grant-dialog-desktop.png` });

    await dialog().getByRole('button', { name: 'Deny all' }).click();
    await dialog().waitFor({ state: 'hidden' });
    const grants = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'bustool')?.grants);
    expect(grants).toEqual({ publish: [], subscribe: [], kernel: [] });
    const card = page.locator('webmk-registry li.module[data-name="bustool"]');
    await expect(card.locator('.perms-summary').textContent()).resolves.toContain(`0 of ${requested.length} granted`);
  });

  it('a refused publish shows -2 in the terminal, a message, and a row in the bus view', async () => {
    await openBusView();
    const pid = await command('bustool try-pub test/x');
    await waitForTerminalText(pid, 'publish=-2');
    const refused = page.locator('webmk-bus-view .denied-list li[data-permission="publish:test/x"]');
    await refused.first().waitFor({ timeout: 10_000 });
    await expect(refused.first().textContent()).resolves.toMatch(/bustool.*may not send messages on "test\/x"/s);
    const toast = page.locator('.toast', { hasText: 'bustool was refused: send messages on "test/x"' });
    await toast.waitFor({ timeout: 5_000 });
  });

  it('refusals in a burst are told in one or two messages, not one each', async () => {
    await page.evaluate(() => {
      const w = window as unknown as { __refusals: string[] };
      w.__refusals = [];
      new MutationObserver((records) => {
        for (const r of records) {
          for (const n of r.addedNodes) {
            if (n instanceof HTMLElement && n.classList.contains('toast') && n.textContent?.includes('was refused')) w.__refusals.push(n.textContent.trim());
          }
        }
      }).observe(document.querySelector('.toasts') as Element, { childList: true });
    });
    const topics = ['test/b1', 'test/b2', 'test/b3', 'test/b4', 'test/b5'];
    const results = await Promise.all(topics.map((t) => run(page, 'bustool', { args: ['try-pub', t] })));
    expect(results.map((r) => r.stdout)).toEqual(topics.map(() => 'publish=-2\n'));
    await page.waitForTimeout(1000);
    const told = await page.evaluate(() => (window as unknown as { __refusals: string[] }).__refusals);
    expect(told.length).toBeGreaterThanOrEqual(1);
    expect(told.length).toBeLessThanOrEqual(2);
    expect(told.join('\n')).toMatch(/more refusals? (is|are) listed under Bus/);
  });

  it('Permissions… changes the grant; the next run may publish', async () => {
    await showView(page, 'Modules');
    const card = page.locator('webmk-registry li.module[data-name="bustool"]');
    const opener = card.getByRole('button', { name: 'Permissions of bustool…' });
    await opener.click();
    await dialog().waitFor({ state: 'visible' });
    await expect(dialog().textContent()).resolves.toContain('Changes apply to processes started afterwards');
    await dialog().getByLabel('send messages on "test/*"').check();
    await dialog().getByRole('button', { name: 'Allow selected (1)' }).click();
    await dialog().waitFor({ state: 'hidden' });
    // Focus goes back to the button that opened the dialog.
    await expect(opener.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await card.locator('.chip.perm.granted[data-permission="publish:test/*"]').waitFor();
    await expect(card.locator('.chip.perm.granted').count()).resolves.toBe(1);

    const pid = await command('bustool try-pub test/x');
    await waitForTerminalText(pid, 'publish=0');
  });

  it('Escape closes the Permissions… dialog without changing anything', async () => {
    await showView(page, 'Modules');
    const card = page.locator('webmk-registry li.module[data-name="bustool"]');
    await card.getByRole('button', { name: 'Permissions of bustool…' }).click();
    await dialog().waitFor({ state: 'visible' });
    // What is granted now is ticked.
    await expect(dialog().getByLabel('send messages on "test/*"').isChecked()).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
    const grants = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'bustool')?.grants);
    expect(grants?.publish).toEqual(['test/*']);
  });

  it('a pipeline typed with | runs in one terminal that shows the last stage output', async () => {
    const expected = await run(page, 'hello', { args: ['a', 'b'] });
    const [lines, words, bytes] = [
      expected.stdout.split('\n').length - 1,
      expected.stdout.split(/\s+/).filter((w) => w !== '').length,
      new TextEncoder().encode(expected.stdout).length,
    ];
    const windows = await page.locator('webmk-terminal').count();
    const pid = await command('hello a b | wc');
    const win = page.locator(`webmk-terminal[data-pid="${pid}"]`);
    await expect(win.getAttribute('data-line')).resolves.toBe('hello a b | wc');
    await expect(win.locator('.term-title').textContent()).resolves.toBe('hello a b | wc');
    const text = await waitForTerminalText(pid, '[exited with code 0]');
    expect(text.trim().split(/\s+/).slice(0, 3).join(' ')).toBe(`${lines} ${words} ${bytes}`);
    expect(text).not.toContain('hello, world');
    await expect(page.locator('webmk-terminal').count()).resolves.toBe(windows + 1);
  });

  it('three stages: seq 1 100 | grep 7 | wc', async () => {
    const pid = await command('seq 1 100 | grep 7 | wc');
    const text = await waitForTerminalText(pid, '[exited with code 0]');
    // 7, 17, 27, ..., 97 and 70..79: 19 numbers, 56 bytes with their newlines.
    expect(text.trim().split(/\s+/).slice(0, 3).join(' ')).toBe('19 19 56');
  });

  it('a pipeline names the stage that did not end well', async () => {
    const pid = await command('hello --exit 3 | wc');
    const text = await waitForTerminalText(pid, '[hello: exited with code 3]');
    expect(text).not.toContain('wc:');
    await expect(page.locator(`webmk-terminal[data-pid="${pid}"] .term-state`).textContent()).resolves.toBe('hello: exited with code 3');
  });

  it("a pipeline shows every stage's errors, not only the last one's", async () => {
    const pid = await command('wc /nope | wc');
    // The stages end in either order: wait for both the first's error and the second's count.
    await waitForTerminalText(pid, 'wc: /nope');
    const text = await waitForTerminalText(pid, /0\s+0\s+0/); // the second wc counted an empty input
    expect(text).toContain('wc: /nope');
  });

  it('a pipeline with an unknown module runs nothing and says which', async () => {
    const windows = await page.locator('webmk-terminal').count();
    await page.locator('#command-input').fill('hello | nosuch');
    await page.locator('#command-input').press('Enter');
    await page.locator('.toast.error', { hasText: 'nosuch' }).waitFor({ timeout: 5_000 });
    await expect(page.locator('.toast.error', { hasText: 'nosuch' }).textContent()).resolves.toContain('kernel/unknown-module');
    await expect(page.locator('webmk-terminal').count()).resolves.toBe(windows);
  });

  it('a broken command line says why and runs nothing', async () => {
    const windows = await page.locator('webmk-terminal').count();
    await page.locator('#command-input').fill('hello |');
    await page.locator('#command-input').press('Enter');
    await expect(page.locator('#command-error').textContent()).resolves.toContain('after the last |');
    await expect(page.locator('#command-input').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('webmk-terminal').count()).resolves.toBe(windows);
    await page.locator('#command-input').fill('');
  });

  it('the bus view shows the topic and the subscription while a module listens', async () => {
    await page.evaluate(() => window.kernel.grant('bustool', 'all'));
    await openBusView();
    const pid = await command('bustool sub test/x 2');
    await waitForTerminalText(pid, 'ready');
    const sub = page.locator(`webmk-bus-view .sub-table tr[data-pid="${pid}"][data-pattern="test/x"]`);
    await sub.waitFor({ timeout: 5_000 });
    await expect(sub.textContent()).resolves.toContain('bustool');

    await page.evaluate(() => window.kernel.bus.publish('test/x', 'hello from the page'));
    await waitForTerminalText(pid, 'test/x: hello from the page');
    const topic = page.locator('webmk-bus-view li.topic[data-topic="test/x"]');
    await topic.locator('.last-messages li', { hasText: 'hello from the page' }).waitFor({ timeout: 5_000 });
    await expect(topic.locator('.publishers').textContent()).resolves.toMatch(/from .*page/);
    await expect(topic.locator('.rate').textContent()).resolves.toMatch(/msg\/s/);
    await page.waitForFunction(
      (pid) => document.querySelector(`webmk-bus-view .sub-table tr[data-pid="${pid}"] td:nth-child(3)`)?.textContent?.trim() === '1',
      pid,
      { timeout: 5_000 },
    );
    await page.locator('webmk-bus-view').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: `${SHOTS}/webmk-bus-view-desktop.png` });

    await page.evaluate(() => window.kernel.bus.publish('test/x', 'and goodbye'));
    await waitForTerminalText(pid, '[exited with code 0]');
    await sub.waitFor({ state: 'detached', timeout: 5_000 });
  });

  it('declares a global topic from the bus view', async () => {
    await openBusView();
    await page.locator('#global-pattern').fill('shared/*');
    await page.locator('#global-pattern').press('Enter');
    await page.locator('webmk-bus-view ul[aria-label="Global topic patterns"] li', { hasText: 'shared/*' }).waitFor();
    await expect(page.evaluate(() => window.kernel.bus.stats().globals)).resolves.toContain('shared/*');
  });

  it('leaving the bus view stops recording topics', async () => {
    await openBusView();
    await expect(page.evaluate(() => window.kernel.bus.stats().watching)).resolves.toBe(true);
    await showView(page, 'Modules');
    await expect(page.evaluate(() => window.kernel.bus.stats().watching)).resolves.toBe(false);
  });

  it('at phone width (360px) the dialog and the bus view fit without horizontal scroll', async () => {
    await page.setViewportSize({ width: 360, height: 760 });
    await openBusView();
    await page.waitForTimeout(300);
    const width = await page.evaluate(() => document.scrollingElement?.scrollWidth ?? Infinity);
    expect(width).toBeLessThanOrEqual(360);
    await page.locator('webmk-bus-view').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/webmk-bus-view-360.png` });

    await showView(page, 'Modules');
    await page.locator('webmk-registry li.module[data-name="bustool"]').getByRole('button', { name: 'Permissions of bustool…' }).click();
    await dialog().waitFor({ state: 'visible' });
    const box = await dialog().boundingBox();
    expect(box?.x).toBeGreaterThanOrEqual(0);
    expect((box?.x ?? 0) + (box?.width ?? Infinity)).toBeLessThanOrEqual(360);
    // Keyboard only: Tab reaches the buttons, Space toggles, Enter on a button answers.
    await page.keyboard.press('Space');
    await page.screenshot({ path: `${SHOTS}/webmk-grant-dialog-360.png` });
    await dialog().getByRole('button', { name: 'Cancel' }).focus();
    await page.keyboard.press('Enter');
    await dialog().waitFor({ state: 'hidden' });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
