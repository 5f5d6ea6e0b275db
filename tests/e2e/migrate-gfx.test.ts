/**
 * A graphics module moved and hibernated while it draws (issue 12, ADR 0034): `gfx-probe counter`
 * installed migratable fills its frames with a colour chosen by the clicks it has counted and
 * prints each click with the frames it presented before it. Moved worker -> iframe -> worker,
 * and hibernated, its window stays, shows its last frame while it has no host, and the count
 * and the frame number carry on where they were: a restart would start both from zero. Moved to
 * another tab, its window stays on this one, showing the frames drawn there.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, moduleBytes, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { nodeOf, waitNode } from './remote-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer({ root: process.env.WEBMK_DIST || undefined });
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.evaluate(async (b) => void (await window.kernel.install(new Uint8Array(b), { name: 'gfx-mig', migratable: true, grant: 'all' })), moduleBytes('gfx-probe'));
}, 60_000);

afterEach(async () => {
  await page.evaluate(async () => {
    for (const p of window.kernel.processes()) if (p.state !== 'exited') await window.kernel.kill(p.pid).catch(() => undefined);
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

declare global {
  var migOut: Record<number, string> | undefined;
}

/** Starts `gfx-probe counter` (160 x 120) and keeps what it prints in `globalThis.migOut[pid]`. */
async function spawnCounter(): Promise<number> {
  return page.evaluate(async () => {
    const p = await window.kernel.spawn('gfx-mig', { args: ['counter', '160', '120'] });
    const out = (globalThis.migOut ??= {});
    out[p.pid] = '';
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of p.stdout as unknown as AsyncIterable<Uint8Array>) out[p.pid] += dec.decode(chunk, { stream: true });
    })();
    return p.pid;
  });
}

const canvasOf = (pid: number) => page.locator(`webmk-gfx-window[data-pid="${pid}"] canvas`);

/** Clicks the window and waits for the module's line about it: [clicks, frames before it]. */
async function click(pid: number, clicks: number): Promise<[number, number]> {
  await canvasOf(pid).click();
  const handle = await page.waitForFunction(
    ([p, n]) => {
      const m = new RegExp(`^clicks ${n} frames (\\d+)$`, 'm').exec(globalThis.migOut?.[p] ?? '');
      return m === null ? false : Number(m[1]);
    },
    [pid, clicks] as const,
    { timeout: 20_000 },
  );
  return [clicks, (await handle.jsonValue()) as number];
}

/** The colour at the middle of `pid`'s window, from a screenshot: what a person sees there. */
async function colour(pid: number): Promise<string> {
  const png = await canvasOf(pid).screenshot();
  const [r, g, b] = await page.evaluate(async (bytes) => {
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d');
    if (ctx === null) throw new Error('no 2d context');
    ctx.drawImage(bitmap, 0, 0);
    return [...ctx.getImageData(bitmap.width >> 1, bitmap.height >> 1, 1, 1).data];
  }, [...png]);
  const name = (v: number | undefined): string => ((v ?? 0) > 200 ? '1' : (v ?? 0) < 50 ? '0' : '?');
  return { '100': 'red', '010': 'green', '001': 'blue', '111': 'white' }[`${name(r)}${name(g)}${name(b)}`] ?? `rgb(${r},${g},${b})`;
}

/** Waits until the window shows `want` (a frame takes a display frame or two to reach the screen). */
async function shows(pid: number, want: string): Promise<void> {
  const until = Date.now() + 10_000;
  // A move gives the window a fresh canvas once the process reopens it; a screenshot of the
  // canvas being replaced fails with "not attached", and the next look finds the new one.
  const look = (): Promise<string> => colour(pid).catch((e: Error) => `(${e.message.split('\n')[0]})`);
  let seen = await look();
  while (seen !== want && Date.now() < until) {
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(ok)));
    seen = await look();
  }
  expect(seen).toBe(want);
}

function row(pid: number): Promise<{ state: string; mode: string; incarnation: number } | undefined> {
  return page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p), pid);
}

describe('a graphics module moved while it draws', () => {
  it('goes worker -> iframe -> worker with its window, its count and its frame number', async () => {
    const pid = await spawnCounter();
    await canvasOf(pid).waitFor();
    await shows(pid, 'red');
    const [, f1] = await click(pid, 1);
    await shows(pid, 'green');

    await page.evaluate((p) => window.kernel.setMode(p, 'iframe'), pid);
    expect(await row(pid)).toMatchObject({ state: 'running', mode: 'iframe' });
    // One window all along, drawn by the process from its new host.
    expect(await page.evaluate((p) => window.kernel.gfx.windows().filter((w) => w.pid === p).length, pid)).toBe(1);
    await shows(pid, 'green');
    const [, f2] = await click(pid, 2);
    expect(f2).toBeGreaterThan(f1);
    await shows(pid, 'blue');

    await page.evaluate((p) => window.kernel.setMode(p, 'worker'), pid);
    expect(await row(pid)).toMatchObject({ state: 'running', mode: 'worker' });
    const [, f3] = await click(pid, 3);
    expect(f3).toBeGreaterThan(f2);
    await shows(pid, 'white');
    // Every click printed once, in order: the stream went on across both moves.
    const out = await page.evaluate((p) => globalThis.migOut?.[p] ?? '', pid);
    expect(out.match(/^clicks \d+/gm)).toEqual(['clicks 1', 'clicks 2', 'clicks 3']);
  });

  it('hibernated, its window keeps the last frame, and a click there resumes it', async () => {
    const pid = await spawnCounter();
    await canvasOf(pid).waitFor();
    const [, f1] = await click(pid, 1);
    await shows(pid, 'green');
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    expect(await row(pid)).toMatchObject({ state: 'hibernated' });
    const win = await page.evaluate((p) => window.kernel.gfx.windows().find((w) => w.pid === p), pid);
    expect(win).toMatchObject({ state: 'waiting', width: 160, height: 120, asleep: true });
    await expect(page.locator(`webmk-gfx-window[data-pid="${pid}"] .gfx-asleep`).textContent()).resolves.toBe('asleep');
    // Its last frame, shown with no worker behind it.
    await shows(pid, 'green');
    expect(await row(pid)).toMatchObject({ state: 'hibernated' });
    const [, f2] = await click(pid, 2);
    expect(f2).toBeGreaterThan(f1);
    expect(await row(pid)).toMatchObject({ state: 'running' });
    await shows(pid, 'blue');
    expect(await page.locator(`webmk-gfx-window[data-pid="${pid}"] .gfx-asleep`).count()).toBe(0);
  });

  it('hibernated across a reload: its window comes back with the last frame, and a click resumes it', async () => {
    const pid = await spawnCounter();
    await canvasOf(pid).waitFor();
    const [, f1] = await click(pid, 1);
    await shows(pid, 'green');
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    await page.reload();
    await waitForKernel(page);
    expect(await row(pid)).toMatchObject({ state: 'hibernated' });
    await canvasOf(pid).waitFor();
    await shows(pid, 'green');
    // Shown and focused, it sleeps on until the person does something in it.
    expect(await row(pid)).toMatchObject({ state: 'hibernated' });
    // Attached after the reload, its output read from here on.
    await page.evaluate(async (p) => {
      const proc = await window.kernel.attach(p);
      const out = (globalThis.migOut ??= {});
      out[p] = '';
      void (async () => {
        const dec = new TextDecoder();
        for await (const chunk of proc.stdout as unknown as AsyncIterable<Uint8Array>) out[p] += dec.decode(chunk, { stream: true });
      })();
    }, pid);
    const [, f2] = await click(pid, 2);
    expect(f2).toBeGreaterThan(f1);
    expect(await row(pid)).toMatchObject({ state: 'running' });
    await shows(pid, 'blue');
  });

  it('moves to another tab, its window staying here with the frames drawn there', async () => {
    const other = await openApp(browser.context, server.url);
    try {
      const node = await nodeOf(other);
      await waitNode(page, node);
      const pid = await spawnCounter();
      await canvasOf(pid).waitFor();
      const [, f1] = await click(pid, 1);
      await shows(pid, 'green');
      await page.evaluate(([p, n]) => window.kernel.setMode(p, 'remote', { node: n }), [pid, node] as const);
      expect(await row(pid)).toMatchObject({ state: 'running', mode: 'remote' });
      // Its window is the same one, showing what is drawn there once the process opens it there.
      await page.waitForFunction(([p, n]) => window.kernel.gfx.windows().some((w) => w.pid === p && w.node === n && w.state === 'live'), [pid, node] as const);
      expect(await page.evaluate((p) => window.kernel.gfx.windows().filter((w) => w.pid === p).length, pid)).toBe(1);
      // A click here reaches it there; its answer and its next frame come back.
      const [, f2] = await click(pid, 2);
      expect(f2).toBeGreaterThan(f1);
      await shows(pid, 'blue');
    } finally {
      await other.close();
    }
  });
});
