/**
 * Service calls on another node (ADR 0038), two tabs of the app in real Chromium:
 * `kernel.call(module, fn, input, { node })` runs the service's instance on that tab, as its own
 * calls do (state kept between calls there, its process in that tab's table), with the same
 * codes for a missing function, the service's own error and a deadline; an unknown node and a
 * tab closed mid-call fail at once with their codes, never a hang. The Services view calls on
 * the node picked.
 */
const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, showView, startServer, type StaticServer, type TestBrowser } from './harness';
import { installWith } from './kernel-helpers';
import { nodeOf, waitNode } from './remote-helpers';

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
  // One registry for the app's tabs: installed once, installed on both.
  await installWith(a, 'plugin', 'all');
  idB = await nodeOf(b);
  await waitNode(a, idB);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Outcome = { ok: true; text: string } | { ok: false; code: string; node?: string };

/** `kernel.call` in `page`, its output as text or its failure's code. */
function call(page: Page, fn: string, input: string, opts: { node?: string; timeoutMs?: number }): Promise<Outcome> {
  return page.evaluate(
    async ([f, i, o]) =>
      window.kernel.call('plugin', f, i, o).then(
        (out): Outcome => ({ ok: true, text: new TextDecoder().decode(out) }),
        (e: { code: string; details?: { node?: string } }): Outcome => ({ ok: false, code: e.code, ...(e.details?.node !== undefined ? { node: e.details.node } : {}) }),
      ),
    [fn, input, opts] as const,
  );
}

/** The live instances of `plugin` in `page`'s process table. */
function instances(page: Page): Promise<number> {
  return page.evaluate(() => window.kernel.processes().filter((p) => p.name === 'plugin' && p.state !== 'exited').length);
}

it("calls a service on the other tab: its instance runs there and keeps its state between calls", async () => {
  expect(await call(a, 'upper', 'from tab a', { node: idB })).toEqual({ ok: true, text: 'FROM TAB A' });
  expect(await call(a, 'count', '', { node: idB })).toEqual({ ok: true, text: '1' });
  expect(await call(a, 'count', '', { node: idB })).toEqual({ ok: true, text: '2' });
  // The same instance serves that tab's own calls.
  expect(await call(b, 'count', '', {})).toEqual({ ok: true, text: '3' });
  expect(await instances(b)).toBe(1);
  expect(await instances(a)).toBe(0);
  // A call here without a node is served here, by an instance of its own.
  expect(await call(a, 'count', '', {})).toEqual({ ok: true, text: '1' });
});

it("gives the other tab's codes: no such function, the service's error, a deadline; and an unknown node", async () => {
  expect(await call(a, 'no_such_function', '', { node: idB })).toMatchObject({ ok: false, code: 'service/no-such-function', node: idB });
  expect(await call(a, 'fail', 'x', { node: idB })).toMatchObject({ ok: false, code: 'service/error' });
  expect(await call(a, 'spin', '', { node: idB, timeoutMs: 500 })).toMatchObject({ ok: false, code: 'kernel/timeout' });
  // Restarted fresh there after its deadline: the next call is served.
  expect(await call(a, 'count', '', { node: idB })).toEqual({ ok: true, text: '1' });
  expect(await call(a, 'echo', '', { node: 'no-such-node' })).toMatchObject({ ok: false, code: 'remote/unknown-node' });
  expect(await call(a, 'echo', '', { node: 42 as unknown as string })).toMatchObject({ ok: false, code: 'kernel/bad-argument' });
});

it('the Services view calls a function on the node picked', async () => {
  await a.setViewportSize({ width: 1280, height: 900 });
  await showView(a, 'Services and store');
  const on = a.locator('#call-node');
  await on.locator(`option[value="${idB}"]`).waitFor({ state: 'attached' });
  await on.selectOption(idB);
  await a.locator('#call-target').selectOption('plugin\ncount');
  expect(await call(a, 'count', '', { node: idB })).toEqual({ ok: true, text: '2' });
  await a.getByRole('button', { name: 'Call', exact: true }).click();
  // The other tab's instance, called once since its restart and once just above.
  await a.locator('.call-output').filter({ hasText: /^3$/ }).waitFor();
  await a.locator('webmk-services-view').screenshot({ path: `${SHOTS}/webmk-services-call-on-node.png` });
  await on.selectOption('');
  await a.getByRole('button', { name: 'Call', exact: true }).click();
  // This tab's own instance, called once before.
  await a.locator('.call-output').filter({ hasText: /^2$/ }).waitFor();
  expect(await call(b, 'count', '', {})).toEqual({ ok: true, text: '4' });
});

it('a tab closed while it serves a call fails the call with remote/link-lost', async () => {
  const c = await openApp(browser.context, server.url);
  const idC = await nodeOf(c);
  await waitNode(a, idC);
  await a.evaluate(
    ([n]) => {
      const w = window as unknown as { __lost?: Promise<string> };
      w.__lost = window.kernel.call('plugin', 'spin', '', { node: n, timeoutMs: 60_000 }).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
    },
    [idC] as const,
  );
  // The call runs there before the tab goes.
  await c.waitForFunction(() => window.kernel.serviceStats().some((s) => s.name === 'plugin' && s.busy));
  await c.close();
  expect(await a.evaluate(() => (window as unknown as { __lost: Promise<string> }).__lost)).toBe('remote/link-lost');
});
