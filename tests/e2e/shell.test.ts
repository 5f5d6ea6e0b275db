/**
 * The shell as a person uses it, in a real Chromium against the built app (`npm run build` first):
 * drop files, install examples, run modules in terminals, type into them, kill from the list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, showView, startServer, type StaticServer, type TestBrowser } from './harness';
import { withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.setViewportSize({ width: 1280, height: 900 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The shape of `<webmk-terminal>` as a test reads it. */
interface TerminalElement extends HTMLElement {
  readonly text: string;
}

/** Drops files on the window the way a browser does: dragenter, dragover, drop, one DataTransfer. */
async function dropFiles(files: { name: string; bytes: number[] }[]): Promise<void> {
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: 'application/wasm' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, files);
}

/** Installs a module through the API unless it is there (tests do not depend on each other). */
async function ensureInstalled(name: string, file = name): Promise<void> {
  await page.evaluate(
    async ({ name, bytes }) => {
      const k = window.kernel;
      if (!(await k.modules()).some((m) => m.name === name)) await k.install(new Uint8Array(bytes), { name });
    },
    { name, bytes: moduleBytes(file) },
  );
  await showView(page, 'Modules');
  await page.locator(`webmk-registry li.module[data-name="${name}"]`).waitFor();
}

/** Clicks Run for a module and returns the pid of the terminal window it opened. */
async function run(name: string, args?: string): Promise<number> {
  await showView(page, 'Modules');
  const card = page.locator(`webmk-registry li.module[data-name="${name}"]`);
  if (args !== undefined) await card.getByLabel('Arguments').fill(args);
  const before = await page.locator(`webmk-terminal[data-name="${name}"]`).count();
  await card.getByRole('button', { name: `Run ${name}` }).click();
  const win = page.locator(`webmk-terminal[data-name="${name}"]`).nth(before);
  await win.waitFor();
  return Number(await win.getAttribute('data-pid'));
}

async function terminalText(pid: number): Promise<string> {
  return page.locator(`webmk-terminal[data-pid="${pid}"]`).evaluate((el) => (el as TerminalElement).text);
}

async function waitForTerminalText(pid: number, needle: string, timeout = 15_000): Promise<string> {
  try {
    await page.waitForFunction(
      ({ pid, needle }) => {
        const el = document.querySelector<HTMLElement>(`webmk-terminal[data-pid="${pid}"]`);
        return el !== null && (el as unknown as { text: string }).text.includes(needle);
      },
      { pid, needle },
      { timeout },
    );
  } catch (e) {
    throw new Error(`terminal ${pid} never showed ${JSON.stringify(needle)}; it shows:\n${await terminalText(pid)}`, {
      cause: e,
    });
  }
  return terminalText(pid);
}

describe('shell', () => {
  it('installs a .wasm file dropped anywhere on the window, showing the overlay while dragging', async () => {
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([0])], 'x.wasm'));
      window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await expect(page.locator('.drop-overlay').isVisible()).resolves.toBe(true);
    await expect(page.locator('.drop-overlay').textContent()).resolves.toContain('Drop .wasm files to install');

    await dropFiles([{ name: 'dropped-hello.wasm', bytes: moduleBytes('hello') }]);
    await expect(page.locator('.drop-overlay').isVisible()).resolves.toBe(false);
    const card = page.locator('webmk-registry li.module[data-name="dropped-hello"]');
    await card.waitFor({ timeout: 10_000 });
    await expect(card.textContent()).resolves.toMatch(/KiB/);
    await expect(page.locator('.toasts').textContent()).resolves.toContain('Installed dropped-hello');
  });

  it('shows the error code and message when a dropped file is not a module', async () => {
    await dropFiles([{ name: 'notes.wasm', bytes: [...new TextEncoder().encode('just some text\n')] }]);
    const toast = page.locator('.toast.error', { hasText: 'notes.wasm' });
    await toast.waitFor({ timeout: 10_000 });
    await expect(toast.textContent()).resolves.toMatch(/registry\/not-wasm: \S/);
    await toast.getByRole('button', { name: 'Dismiss message' }).click();
    await expect(toast.count()).resolves.toBe(0);
  });

  it('installs an example in one click and then marks it installed', async () => {
    const example = page.locator('webmk-examples li.example[data-name="wc"]');
    await example.waitFor();
    const installedAlready = await page.evaluate(async () => (await window.kernel.modules()).some((m) => m.name === 'wc'));
    if (installedAlready) await page.evaluate(() => window.kernel.uninstall('wc'));
    await example.getByRole('button', { name: 'Install example wc' }).click();
    await example.getByText('installed').waitFor({ timeout: 10_000 });
    await page.locator('webmk-registry li.module[data-name="wc"]').waitFor();
    const info = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'wc'));
    expect(info?.size).toBe(moduleBytes('wc').length);
  });

  it('Run opens a terminal that shows the output and how the process ended', async () => {
    await ensureInstalled('hello');
    const prefilled = await page
      .locator('webmk-registry li.module[data-name="hello"]')
      .getByLabel('Arguments')
      .inputValue();
    expect(prefilled).toBe('from webmk');
    const pid = await run('hello', 'from "the shell"');
    const text = await waitForTerminalText(pid, '[exited with code 0]');
    expect(text).toContain('hello, world');
    expect(text).toContain('the shell');
    const bar = page.locator(`webmk-terminal[data-pid="${pid}"] .term-bar`);
    await expect(bar.textContent()).resolves.toContain(`pid ${pid}`);
    await expect(bar.textContent()).resolves.toContain('exited with code 0');
  });

  it('Run gives a module that works with files its home at /home and a fresh /tmp', async () => {
    await ensureInstalled('files');
    const w = await run('files', 'write /home/from-shell.txt kept');
    await waitForTerminalText(w, '[exited with code 0]');
    const kept = await page.evaluate(async () => {
      const home = await window.kernel.home('files');
      return (await (await home.getFileHandle('from-shell.txt')).getFile()).text();
    });
    expect(kept).toBe('kept\n');
    const t = await run('files', 'write /tmp/scratch.txt gone');
    await waitForTerminalText(t, '[exited with code 0]');
    const ls = await run('files', 'ls /tmp');
    expect(await waitForTerminalText(ls, '[exited with code 0]')).not.toContain('scratch.txt');
  });

  it('a line typed into the terminal goes to stdin', async () => {
    await ensureInstalled('ask');
    const pid = await run('ask', '');
    // Typing ahead works too, but its echo would land before the prompt, as on any tty.
    await waitForTerminalText(pid, 'What is your name?');
    await page.locator(`webmk-terminal[data-pid="${pid}"] textarea`).focus();
    await page.keyboard.type('Adx');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('a Lovelace');
    await page.keyboard.press('Enter');
    const text = await waitForTerminalText(pid, 'Hello, Ada Lovelace!');
    expect(text).toContain('What is your name? Ada Lovelace\n'); // the local echo
    await waitForTerminalText(pid, 'Another?');
    await page.keyboard.type('n\n');
    await waitForTerminalText(pid, '[exited with code 0]');
  });

  it('runs a module in a sandboxed frame when asked, and the process list says where', async () => {
    await ensureInstalled('hello');
    const card = page.locator('webmk-registry li.module[data-name="hello"]');
    await card.getByLabel('Run hello in').selectOption('iframe');
    const pid = await run('hello', 'from a frame');
    await waitForTerminalText(pid, 'argv[1]=from');
    await waitForTerminalText(pid, '[exited with code 0]');
    const row = page.locator(`webmk-processes tr[data-pid="${pid}"]`);
    await expect(row.locator('.mode').textContent()).resolves.toBe('iframe');
    await showView(page, 'Modules');
    await card.getByLabel('Run hello in').selectOption('worker');
  });

  it('offers the page itself as a place to run only once the person granted it', async () => {
    const bytes = withManifest(moduleBytes('hello'), { name: 'hello-page', permissions: { run: ['inpage'] } });
    await page.evaluate(async (b) => void (await window.kernel.install(new Uint8Array(b), { name: 'hello-page' })), bytes);
    const card = page.locator('webmk-registry li.module[data-name="hello-page"]');
    await card.waitFor();
    const inpage = card.getByLabel('Run hello-page in').locator('option[value="inpage"]');
    await expect(inpage.isDisabled()).resolves.toBe(true);
    await page.evaluate(() => window.kernel.grant('hello-page', ['run:inpage']));
    await page.waitForFunction(() => document.querySelector('webmk-registry li.module[data-name="hello-page"] option[value="inpage"]')?.hasAttribute('disabled') === false);
    await card.getByLabel('Run hello-page in').selectOption('inpage');
    const pid = await run('hello-page', 'on the page');
    await waitForTerminalText(pid, '[exited with code 0]');
    await expect(page.locator(`webmk-processes tr[data-pid="${pid}"] .mode`).textContent()).resolves.toBe('inpage');
  });

  it('Restart in the process list brings an ended process back under its pid', async () => {
    await ensureInstalled('hello');
    const pid = await run('hello', 'once');
    await waitForTerminalText(pid, '[exited with code 0]');
    await showView(page, 'Processes');
    const row = page.locator(`webmk-processes tr[data-pid="${pid}"]`);
    await row.getByRole('button', { name: `Restart hello (pid ${pid})` }).click();
    await page.waitForFunction(
      (pid) => document.querySelector(`webmk-processes tr[data-pid="${pid}"] .restarts`)?.textContent?.trim().startsWith('1'),
      pid,
    );
    // A new window for the same pid shows the second run to its end.
    await waitForTerminalText(pid, 'hello, world');
    await waitForTerminalText(pid, '[exited with code 0]');
    const rows = await page.evaluate((p) => window.kernel.processes().filter((x) => x.pid === p).map((x) => ({ incarnation: x.incarnation, state: x.state })), pid);
    expect(rows).toEqual([{ incarnation: 2, state: 'exited' }]);
  });

  it('Kill in the process list ends a spinning process', async () => {
    await ensureInstalled('spin');
    const pid = await run('spin', '');
    await showView(page, 'Processes');
    const row = page.locator(`webmk-processes tr[data-pid="${pid}"]`);
    await row.waitFor();
    // The row appears while the process is still starting (a loaded machine takes a while).
    await page.waitForFunction(
      (pid) => document.querySelector(`webmk-processes tr[data-pid="${pid}"] .state`)?.textContent?.includes('running'),
      pid,
      { timeout: 10_000 },
    );
    // Above the table: how many wasm memory slots the page's processes hold.
    const used = await page.evaluate(() => window.kernel.memorySlots().page.used);
    expect(used).toBeGreaterThan(0);
    const shown = () =>
      page.waitForFunction(
        // (the line is left out while no slot is used)
        () => (document.querySelector('webmk-processes .slots')?.textContent?.match(/page (\d+)/)?.[1] ?? '0') === String(window.kernel.memorySlots().page.used),
        undefined,
        { timeout: 10_000 },
      );
    await shown();
    await row.getByRole('button', { name: `Kill spin (pid ${pid})` }).click();
    await page.waitForFunction(
      (pid) => document.querySelector(`webmk-processes tr[data-pid="${pid}"] .state`)?.textContent?.includes('killed'),
      pid,
      { timeout: 10_000 },
    );
    await waitForTerminalText(pid, '[killed]');
    await expect(row.getByRole('button', { name: /Kill/ }).count()).resolves.toBe(0);
    await expect(page.evaluate(() => window.kernel.memorySlots().page.used)).resolves.toBe(used - 1);
    await shown();
  });

  it('closing the window of a running process kills it', async () => {
    await ensureInstalled('spin');
    const pid = await run('spin', '');
    await page.getByRole('button', { name: `Close terminal spin, pid ${pid}` }).click();
    await expect(page.locator(`webmk-terminal[data-pid="${pid}"]`).count()).resolves.toBe(0);
    await page.waitForFunction(
      (pid) => window.kernel.processes().find((p) => p.pid === pid)?.reason === 'killed',
      pid,
      { timeout: 10_000 },
    );
  });

  it('Ctrl-C in a terminal kills its process; Tab leaves the terminal', async () => {
    await ensureInstalled('spin');
    const pid = await run('spin', '');
    const input = page.locator(`webmk-terminal[data-pid="${pid}"] textarea`);
    await input.focus();
    await page.keyboard.press('Tab');
    await expect(input.evaluate((el) => el === document.activeElement)).resolves.toBe(false);
    await input.focus();
    await page.keyboard.press('Control+C');
    const text = await waitForTerminalText(pid, '[killed]');
    expect(text).toContain('^C');
  });

  it('Install .wasm… installs the chosen files', async () => {
    await showView(page, 'Modules');
    await page.locator('#install-input').setInputFiles({
      name: 'picked-hello.wasm',
      mimeType: 'application/wasm',
      buffer: Buffer.from(moduleBytes('hello')),
    });
    await page.locator('webmk-registry li.module[data-name="picked-hello"]').waitFor({ timeout: 10_000 });
  });

  it('offers the new version when one is waiting, and Reload applies it', async () => {
    await page.evaluate(() => {
      const boot = window.webmkBoot as EventTarget & { applyUpdate(): void };
      boot.applyUpdate = () => document.body.setAttribute('data-applied', 'yes');
      boot.dispatchEvent(new Event('update-available'));
    });
    const banner = page.locator('.banner.update');
    await expect(banner.textContent()).resolves.toContain('A new version is available');
    await banner.getByRole('button', { name: 'Reload' }).click();
    await expect(page.locator('body').getAttribute('data-applied')).resolves.toBe('yes');
  });

  it('Uninstall asks first, then removes the module', async () => {
    await ensureInstalled('dropped-hello', 'hello');
    const card = page.locator('webmk-registry li.module[data-name="dropped-hello"]');
    await card.getByRole('button', { name: 'Uninstall dropped-hello' }).click();
    await card.getByRole('button', { name: 'Cancel' }).click();
    await card.getByRole('button', { name: 'Uninstall dropped-hello' }).click();
    await card.getByRole('button', { name: 'Yes, uninstall' }).click();
    await card.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('has no horizontal scroll at phone width (360px), in any view', async () => {
    await page.setViewportSize({ width: 360, height: 760 });
    for (const view of ['Modules', 'Processes', 'Bus', 'Services and store', 'Files', 'Nodes', 'Settings', 'Terminals'] as const) {
      await showView(page, view);
      const width = await page.evaluate(() => document.scrollingElement?.scrollWidth ?? Infinity);
      expect(width, view).toBeLessThanOrEqual(360);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await showView(page, 'Modules');
  });

  it('is one workbench: the bar picks one view at a time (also by Alt+digit and arrow keys), the status line tells what runs, and Ctrl+K goes to the command line', async () => {
    await showView(page, 'Modules');
    const shown = () => page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.view')].filter((v) => !v.hidden).map((v) => v.id));
    expect(await shown()).toEqual(['view-modules']);
    await page.keyboard.press('Alt+2');
    expect(await shown()).toEqual(['view-processes']);
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('tab-processes');
    await page.keyboard.press('ArrowDown');
    expect(await shown()).toEqual(['view-bus']);
    // The bus view records topics only while it is shown.
    await expect(page.evaluate(() => window.kernel.bus.stats().watching)).resolves.toBe(true);
    await page.keyboard.press('ArrowDown');
    expect(await shown()).toEqual(['view-services']);
    await expect(page.evaluate(() => window.kernel.bus.stats().watching)).resolves.toBe(false);
    // The status line counts the processes that run, and takes the person to them.
    await ensureInstalled('spin');
    const pid = await run('spin', '');
    await page.locator('.statusline', { hasText: /[1-9]\d* running/ }).waitFor();
    await page.locator('.statusline').getByRole('button', { name: /running/ }).click();
    expect(await shown()).toEqual(['view-processes']);
    await page.locator(`webmk-processes tr[data-pid="${pid}"]`).waitFor();
    await page.screenshot({ path: `${process.env.WEBMK_SHOTS ?? '/tmp'}/webmk-workbench-processes.png` });
    // Ctrl+K from anywhere but a terminal goes to the command line.
    await page.getByRole('tab', { name: 'Processes', exact: true }).focus();
    await page.keyboard.press('Control+K');
    await expect(page.evaluate(() => document.activeElement?.closest('webmk-command-bar') !== null)).resolves.toBe(true);
    await page.evaluate((p) => window.kernel.kill(p), pid);
    // Files gathers every module's home and mounted folder; its Home… opens the module's files.
    await ensureInstalled('files');
    await showView(page, 'Files');
    await page.locator('webmk-files-view li[data-name="files"]').getByRole('button', { name: 'Browse the home of files' }).click();
    await page.locator('dialog.files-dialog').waitFor({ state: 'visible' });
    await expect(page.locator('#files-title').textContent()).resolves.toBe('Files of files');
    await page.locator('dialog.files-dialog').getByRole('button', { name: 'Close' }).click();
    await page.locator('dialog.files-dialog').waitFor({ state: 'hidden' });
    // Settings tells what the site stores, and turns hibernation at the wall on in the kernel.
    await showView(page, 'Settings');
    const estimate = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    await expect(page.locator('webmk-settings-view .storage-use').textContent()).resolves.toMatch(/This site stores [\d.]+ (B|KiB|MiB|GiB) of the [\d.]+ (KiB|MiB|GiB|TiB)/);
    expect(estimate).toBeGreaterThan(0);
    await page.evaluate(() => {
      const k = window.kernel as unknown as { setAutoHibernate(p: unknown): void; policies?: unknown[] };
      const real = k.setAutoHibernate.bind(k);
      k.policies = [];
      k.setAutoHibernate = (p) => {
        k.policies?.push(p);
        real(p);
      };
    });
    await page.locator('#auto-hibernate').check();
    await expect(page.evaluate(() => (window.kernel as unknown as { policies: unknown[] }).policies)).resolves.toEqual([{ atWall: true }]);
    await page.screenshot({ path: `${process.env.WEBMK_SHOTS ?? '/tmp'}/webmk-workbench-settings.png` });
    await page.locator('#auto-hibernate').uncheck();
    await expect(page.evaluate(() => (window.kernel as unknown as { policies: unknown[] }).policies)).resolves.toEqual([{ atWall: true }, null]);
    await showView(page, 'Processes');
    // The choice of view survives a reload.
    await page.reload();
    await page.locator('#view-processes').waitFor();
    expect(await shown()).toEqual(['view-processes']);
    await showView(page, 'Modules');
  });
});
