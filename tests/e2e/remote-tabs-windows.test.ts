/**
 * Remote mode between tabs, the rest of issue 13 (ADR 0029): a graphics module run on the other
 * tab shows its window on this one (its frames cross the link; a click here reaches it there); a
 * module installed on one tab runs on the other at once (one registry: nothing is sent, nothing
 * asked); a process whose tab closes is started again here when its restart policy says
 * `fallback: 'local'`, under its pid, its stdin still working; a running migratable process
 * moves to the other tab (`setMode(pid, 'remote', { node })`) with its state.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser, showView } from './harness';
import { install, startBackground, waitExit, waitOutput } from './kernel-helpers';
import { codeOf, nodeOf, startRemote, waitNode, writeStdin } from './remote-helpers';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';

let server: StaticServer;
let browser: TestBrowser;
let a: Page;
let b: Page;
let idB = '';

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  a = await openApp(browser.context, server.url);
  b = await openApp(browser.context, server.url);
  await a.setViewportSize({ width: 1280, height: 900 });
  await install(a, 'cat', 'gfx-probe');
  idB = await nodeOf(b);
  await waitNode(a, idB);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** RGBA of the screenshot of `pid`'s window canvas on `page` at fractions of its size. */
async function pixels(page: Page, pid: number, points: Array<[number, number]>): Promise<number[][]> {
  const png = await page.locator(`webmk-gfx-window[data-pid="${pid}"] canvas`).screenshot();
  return page.evaluate(
    async ([bytes, pts]) => {
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = c.getContext('2d');
      if (ctx === null) throw new Error('no 2d context');
      ctx.drawImage(bitmap, 0, 0);
      return pts.map(([fx, fy]) => [...ctx.getImageData(Math.floor(fx * bitmap.width), Math.floor(fy * bitmap.height), 1, 1).data]);
    },
    [[...png], points] as const,
  );
}

it("shows a remote process's window here: its frames cross the link, a click here reaches it there", async () => {
  const pid = await startRemote(a, 'gfx-probe', idB, { args: ['pattern', '320', '240'] });
  await waitOutput(a, pid, 'open 0');
  // The window on this tab: live, named after the module, marked with the node it runs on.
  await a.waitForFunction((p) => window.kernel.gfx.windows().some((w) => w.pid === p && w.state === 'live'), pid, { timeout: 30_000 });
  const info = await a.evaluate((p) => window.kernel.gfx.windows().find((w) => w.pid === p), pid);
  expect(info).toMatchObject({ name: 'gfx-probe', width: 320, height: 240, node: idB });
  const win = a.locator(`webmk-gfx-window[data-pid="${pid}"]`);
  await win.waitFor({ timeout: 30_000 });
  expect(await win.locator('.gfx-node').innerText()).toBe(`on ${idB.slice(0, 8)}`);
  // Frames arrive until the quadrants show (the first may come before the window was placed).
  const near = (got: number[] | undefined, want: number[]) => [0, 1, 2].every((i) => Math.abs((got?.[i] ?? -1) - (want[i] ?? 0)) <= 8);
  let seen: number[][] = [];
  for (let i = 0; i < 100; i += 1) {
    seen = await pixels(a, pid, [
      [0.25, 0.25],
      [0.75, 0.25],
      [0.25, 0.75],
      [0.75, 0.75],
    ]);
    if (near(seen[0], [255, 0, 0]) && near(seen[3], [255, 255, 255])) break;
    await a.waitForFunction(() => new Promise((ok) => requestAnimationFrame(() => ok(true))));
  }
  expect(near(seen[0], [255, 0, 0])).toBe(true);
  expect(near(seen[1], [0, 255, 0])).toBe(true);
  expect(near(seen[2], [0, 0, 255])).toBe(true);
  expect(near(seen[3], [255, 255, 255])).toBe(true);
  // A click here, in canvas pixels, reaches the module on the other tab.
  const canvas = win.locator('canvas');
  const box = await canvas.boundingBox();
  if (box === null) throw new Error('no canvas box');
  const sx = 320 / box.width;
  const sy = 240 / box.height;
  await a.mouse.click(box.x + 40 / sx + 0.5 / sx, box.y + 30 / sy + 0.5 / sy);
  const out = await waitOutput(a, pid, 'ev 3 ');
  expect(out).toMatch(/^ev 3 40 30 0 /m);
  await win.screenshot({ path: `${SHOTS}/webmk-remote-window.png` });
  // On the tab that runs it, the process is the caller's, listed with this tab's node.
  const there = await b.evaluate((p) => window.kernel.processes().find((x) => x.remotePid === p), pid);
  expect(there).toMatchObject({ name: 'gfx-probe', mode: 'worker', state: 'running' });
  // Closing the window here ends the process there.
  await win.getByRole('button', { name: /Close window gfx-probe/ }).click();
  expect(await waitExit(a, pid)).toBe(137);
  await b.waitForFunction((p) => window.kernel.processes().find((x) => x.remotePid === p)?.state === 'exited', pid);
  expect(await a.evaluate((p) => window.kernel.gfx.windows().some((w) => w.pid === p), pid)).toBe(false);
});

it('a module installed on one tab runs on the other at once: one registry, nothing sent, nothing asked', async () => {
  await b.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'hello-fresh' })), moduleBytes('hello'));
  const pid = await startRemote(a, 'hello-fresh', idB);
  expect(await waitExit(a, pid)).toBe(0);
  expect(await waitOutput(a, pid, 'hello, world')).toContain('argv[0]=hello-fresh');
  expect(await b.evaluate(() => window.kernel.remoteRequests().length)).toBe(0);
});

it("a closed tab's process restarts here when its policy says fallback: local, under its pid, stdin still working", async () => {
  const c = await openApp(browser.context, server.url);
  const idC = await nodeOf(c);
  await waitNode(a, idC);
  const pid = await a.evaluate(async (n) => {
    const w = window as unknown as { __out: Record<number, string>; __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>>; __states: string[] };
    w.__out ??= {};
    w.__stdin ??= {};
    const p = await window.kernel.spawn('cat', { mode: 'remote', node: n, restart: { restart: 'transient', fallback: 'local' } });
    w.__stdin[p.pid] = p.stdin.getWriter();
    w.__out[p.pid] = '';
    w.__states = [];
    window.kernel.addEventListener('statechange', (e) => {
      const d = (e as CustomEvent<{ pid: number; state: string; reason: string }>).detail;
      if (d.pid === p.pid) w.__states.push(`${d.state}:${d.reason}`);
    });
    void (async () => {
      const dec = new TextDecoder();
      const reader = p.stdout.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        w.__out[p.pid] += dec.decode(value, { stream: true });
      }
    })();
    return p.pid;
  }, idC);
  await writeStdin(a, pid, 'on the other tab\n');
  await waitOutput(a, pid, 'on the other tab\n');
  expect(await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid)).toMatchObject({ mode: 'remote', node: idC, incarnation: 1 });
  await c.close();
  await a.waitForFunction((p) => {
    const row = window.kernel.processes().find((x) => x.pid === p);
    return row?.state === 'running' && row.incarnation === 2;
  }, pid, { timeout: 30_000 });
  const row = await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid);
  expect(row).toMatchObject({ mode: 'worker', state: 'running', incarnation: 2, restarts: 1, lastExit: { reason: 'link-lost' } });
  expect(row?.node).toBeUndefined();
  expect(await a.evaluate(() => (window as unknown as { __states: string[] }).__states)).toContain('backoff:link-lost');
  await writeStdin(a, pid, 'here now\n');
  expect(await waitOutput(a, pid, 'here now\n')).toBe('on the other tab\nhere now\n');
  await a.evaluate((p) => window.kernel.kill(p), pid);
});

it("a closed tab's process restarts on the node its fallback names, when that node is there", async () => {
  const [c, d] = await Promise.all([openApp(browser.context, server.url), openApp(browser.context, server.url)]);
  const [idC, idD] = await Promise.all([nodeOf(c), nodeOf(d)]);
  await Promise.all([waitNode(a, idC), waitNode(a, idD)]);
  const pid = await startBackground(a, 'cat', [], { mode: 'remote', node: idC, keepStdin: true, restart: { restart: 'transient', fallback: idD } });
  await writeStdin(a, pid, 'on c\n');
  await waitOutput(a, pid, 'on c\n');
  await c.close();
  await a.waitForFunction((p) => {
    const row = window.kernel.processes().find((x) => x.pid === p);
    return row?.state === 'running' && row.incarnation === 2;
  }, pid, { timeout: 30_000 });
  expect(await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid)).toMatchObject({ mode: 'remote', node: idD, incarnation: 2, lastExit: { reason: 'link-lost' } });
  await writeStdin(a, pid, 'on d\n');
  expect(await waitOutput(a, pid, 'on d\n')).toBe('on c\non d\n');
  expect(await d.evaluate((p) => window.kernel.processes().some((x) => x.remotePid === p && x.state === 'running'), pid)).toBe(true);
  await a.evaluate((p) => window.kernel.kill(p), pid);
  await d.close();
});

it('without fallback a restart goes back to the lost node and ends link-lost, at its restart limit', async () => {
  const d = await openApp(browser.context, server.url);
  const idD = await nodeOf(d);
  await waitNode(a, idD);
  const pid = await a.evaluate(async (n) => (await window.kernel.spawn('cat', { mode: 'remote', node: n, restart: { restart: 'transient', intensity: 1 } })).pid, idD);
  await a.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'running', pid);
  await d.close();
  await a.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', pid, { timeout: 30_000 });
  expect(await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p)?.reason, pid)).toBe('restart-limit');
});

it('moves a running migratable process to the other tab (setMode remote): its state goes along, stdio rebound', async () => {
  await a.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'accum', migratable: true })), moduleBytes('accum'));
  const pid = await startBackground(a, 'accum', [], { keepStdin: true });
  await waitOutput(a, pid, 'ready');
  await writeStdin(a, pid, '5\n');
  await waitOutput(a, pid, 'n=1 total=5 ');
  // Moved from the shell: the process list's "Move to…" offers the other tab.
  await showView(a, 'Processes');
  const listed = a.locator(`webmk-processes tr[data-pid="${pid}"]`);
  await listed.getByLabel(`Move accum (pid ${pid}) to another mode or node`).selectOption(`node:${idB}`);
  await a.waitForFunction((p) => {
    const r = window.kernel.processes().find((x) => x.pid === p);
    return r?.mode === 'remote' && r.state === 'running';
  }, pid, { timeout: 30_000 });
  await listed.getByText(/on /).first().waitFor();
  await a.locator('section[aria-labelledby="processes-heading"]').screenshot({ path: `${SHOTS}/webmk-moved-to-node.png` });
  const row = await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid);
  expect(row).toMatchObject({ mode: 'remote', node: idB, state: 'running' });
  const there = await b.evaluate((p) => window.kernel.processes().find((x) => x.remotePid === p && x.state === 'running'), pid);
  expect(there).toMatchObject({ name: 'accum', mode: 'worker' });
  // Its count and total carried on there, its clock never went back.
  await writeStdin(a, pid, '7\n');
  const out = await waitOutput(a, pid, 'n=2 total=12 ');
  expect(out).toMatch(/^n=2 total=12 check=-?\d+ clock=ok$/m);
  // Once there it is not parked from here; a move needs a node; a module not migratable is refused.
  expect(await codeOf(a, "(k, [p, n]) => k.setMode(p, 'remote', { node: n })", [pid, idB])).toBe('migrate/unsupported');
  expect(await codeOf(a, "(k, p) => k.hibernate(p)", pid)).not.toBe('resolved');
  const local = await a.evaluate(async () => (await window.kernel.spawn('cat')).pid);
  expect(await codeOf(a, "(k, p) => k.setMode(p, 'remote')", local)).toBe('kernel/bad-argument');
  expect(await codeOf(a, "(k, [p, n]) => k.setMode(p, 'remote', { node: n })", [local, idB])).toBe('migrate/not-migratable');
  await a.evaluate((p) => window.kernel.kill(p), local);
  await a.evaluate((p) => (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[p]?.close(), pid);
  expect(await waitExit(a, pid)).toBe(0);
});
