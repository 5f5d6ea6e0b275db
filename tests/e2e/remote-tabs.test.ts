/**
 * Remote mode between tabs (issue 13, ADR 0020): two pages of the app in one browser find each
 * other as nodes; a module spawned on the other tab runs there with its args and env, answers
 * stdin interactively, can be killed, shows in both process tables; a closed tab ends what ran on
 * it with `link-lost` (and leaves the node list), never a hang, and so does a crashed one. Bus topics the process may
 * publish and subscribe to cross between the tabs, both ways.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, installWith, output, waitExit, waitOutput } from './kernel-helpers';
import { codeOf, nodeOf, startRemote, waitNode, writeStdin } from './remote-helpers';

let server: StaticServer;
let browser: TestBrowser;
let a: Page;
let b: Page;
let idA = '';
let idB = '';

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  a = await openApp(browser.context, server.url);
  b = await openApp(browser.context, server.url);
  // The registry is the app's (one IndexedDB): installed once, installed on both tabs.
  await install(a, 'cat', 'hello', 'spin', 'seq', 'wc');
  await installWith(a, 'bustool', 'all');
  [idA, idB] = await Promise.all([nodeOf(a), nodeOf(b)]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('each tab has its own node id and lists the other tab as a connected node with a round trip', async () => {
  expect(idA).toMatch(/^[0-9a-f]{16}$/);
  expect(idB).toMatch(/^[0-9a-f]{16}$/);
  expect(idA).not.toBe(idB);
  const seen = await waitNode(a, idB);
  expect(seen).toMatchObject({ id: idB, kind: 'tab', connected: true });
  await waitNode(b, idA);
  await a.waitForFunction((n) => window.kernel.nodes().find((x) => x.id === n)?.rttMs !== undefined, idB);
  expect(await a.evaluate(() => window.kernel.nodes().some((x) => x.id === window.kernel.node))).toBe(false);
});

it('runs a module on the other tab with its args and env; both process tables show it with the other node', async () => {
  const pid = await startRemote(a, 'hello', idB, { args: ['--exit', '3'], env: { WHO: 'tab-a' } });
  expect(await waitExit(a, pid)).toBe(3);
  const out = await output(a, pid);
  expect(out).toContain('hello, world\nargv[0]=hello\nargv[1]=--exit\nargv[2]=3\n');
  expect(out).toContain('env WHO=tab-a');
  const mine = await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid);
  expect(mine).toMatchObject({ mode: 'remote', node: idB, state: 'exited', reason: 'exited', exitCode: 3 });
  const theirs = await b.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), mine?.remotePid ?? -1);
  expect(theirs).toMatchObject({ name: 'hello', node: idA, remotePid: pid, state: 'exited', exitCode: 3 });
});

it('answers stdin interactively across the tabs, then ends when stdin closes', async () => {
  const pid = await startRemote(a, 'cat', idB, { keepStdin: true });
  await writeStdin(a, pid, 'first line\n');
  await waitOutput(a, pid, 'first line\n');
  await writeStdin(a, pid, 'second line\n');
  expect(await waitOutput(a, pid, 'second line\n')).toBe('first line\nsecond line\n');
  await a.evaluate((p) => (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[p]?.close(), pid);
  expect(await waitExit(a, pid)).toBe(0);
});

it('kills a process on the other tab: it ends on both sides as killed', async () => {
  const pid = await startRemote(a, 'spin', idB);
  await waitOutput(a, pid, 'spinning');
  await a.evaluate((p) => window.kernel.kill(p), pid);
  expect(await waitExit(a, pid)).toBe(137);
  const mine = await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid);
  expect(mine).toMatchObject({ state: 'exited', reason: 'killed' });
  await b.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', mine?.remotePid ?? -1);
});

it('bus topics cross both ways: what it publishes there reaches this tab, what this tab publishes reaches it', async () => {
  // Published on the other tab by the remote process, heard here by the page.
  await a.evaluate(() => {
    const w = window as unknown as { __heard: string[] };
    w.__heard = [];
    window.kernel.bus.subscribe('test/out', (d, t) => w.__heard.push(`${t}: ${new TextDecoder().decode(d)}`));
  });
  const pub = await startRemote(a, 'bustool', idB, { args: ['pub', 'test/out', '3'] });
  expect(await waitExit(a, pub)).toBe(0);
  await a.waitForFunction(() => (window as unknown as { __heard: string[] }).__heard.length >= 3);
  expect(await a.evaluate(() => (window as unknown as { __heard: string[] }).__heard)).toEqual(['test/out: test/out #0', 'test/out: test/out #1', 'test/out: test/out #2']);
  // Published here by the page, received by the remote process on the other tab.
  const sub = await startRemote(a, 'bustool', idB, { args: ['sub', 'test/in', '2'] });
  await waitOutput(a, sub, 'ready');
  await a.evaluate(() => {
    window.kernel.bus.publish('test/in', 'one');
    window.kernel.bus.publish('test/in', 'two');
  });
  expect(await waitExit(a, sub)).toBe(0);
  expect(await output(a, sub)).toBe('ready\ntest/in: one\ntest/in: two\ndropped 0\n');
});

it('pipes a local stage into a stage on the other tab and on: 32 MiB counted and hashed the same as on one tab', async () => {
  const count = (node: string | undefined) =>
    a.evaluate(async (n) => {
      const procs = await window.kernel.pipeline([{ name: 'seq', args: ['1', '4333192'] }, { name: 'cat', ...(n !== undefined ? { node: n } : {}) }, { name: 'wc' }]);
      const last = procs[procs.length - 1];
      if (last === undefined) throw new Error('no stages');
      const [out, codes] = await Promise.all([new Response(last.stdout).text(), Promise.all(procs.map((p) => p.exit))]);
      return { out: out.trim().split(/\s+/), codes };
    }, node);
  const here = await count(undefined);
  const there = await count(idB);
  // 4,333,192 lines of "1".."4333192": exactly 32 MiB.
  expect(here.out).toEqual(['4333192', '4333192', '33554432']);
  expect(there).toEqual(here);
  // The bytes themselves: the same SHA-256 out of a remote last stage as out of seq alone.
  const digest = (remote: boolean) =>
    a.evaluate(
      async ([n, r]) => {
        const stages = [{ name: 'seq', args: ['1', '4333192'] }, ...(r ? [{ name: 'cat', node: n }] : [])];
        const procs = await window.kernel.pipeline(stages);
        const last = procs[procs.length - 1];
        if (last === undefined) throw new Error('no stages');
        const bytes = new Uint8Array(await new Response(last.stdout).arrayBuffer());
        const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        return { length: bytes.length, hash: [...hash].map((x) => x.toString(16).padStart(2, '0')).join('') };
      },
      [idB, remote] as const,
    );
  const direct = await digest(false);
  expect(direct.length).toBe(33554432);
  expect(await digest(true)).toEqual(direct);
}, 120_000);

it('refuses with clear codes: an unknown node, a module not installed there, a node without remote mode', async () => {
  expect(await codeOf(a, '(k) => k.spawn("hello", { mode: "remote", node: "0123456789abcdef" })', null)).toBe('remote/unknown-node');
  expect(await codeOf(a, '(k, n) => k.spawn("no-such-module", { node: n })', idB)).toBe('remote/not-installed');
  expect(await codeOf(a, '(k) => k.spawn("hello", { mode: "remote" })', null)).toBe('kernel/bad-argument');
  expect(await codeOf(a, '(k, n) => k.spawn("hello", { mode: "worker", node: n })', idB)).toBe('kernel/bad-argument');
});

it('a closed tab ends what ran on it with link-lost, and leaves the node list', async () => {
  const c = await openApp(browser.context, server.url);
  const idC = await nodeOf(c);
  await waitNode(a, idC);
  const pid = await startRemote(a, 'cat', idC, { keepStdin: true });
  await writeStdin(a, pid, 'ping\n');
  await waitOutput(a, pid, 'ping\n');
  await a.evaluate(() => {
    const w = window as unknown as { __gone: string[] };
    w.__gone = [];
    window.kernel.addEventListener('nodes', (e) => {
      const id = (e as CustomEvent<{ gone?: { id: string } }>).detail.gone?.id;
      if (id !== undefined) w.__gone.push(id);
    });
  });
  await c.close();
  expect(await waitExit(a, pid)).toBe(129);
  const row = await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid);
  expect(row).toMatchObject({ state: 'exited', reason: 'link-lost', node: idC });
  expect(await a.evaluate(() => (window as unknown as { __gone: string[] }).__gone)).toContain(idC);
  expect(await a.evaluate((n) => window.kernel.nodes().some((x) => x.id === n), idC)).toBe(false);
  // The tab that stays still runs things on the other one.
  const again = await startRemote(a, 'hello', idB);
  expect(await waitExit(a, again)).toBe(0);
});

it('a crashed tab ends what ran on it with link-lost too', async () => {
  const d = await openApp(browser.context, server.url);
  const idD = await nodeOf(d);
  await waitNode(a, idD);
  const pid = await startRemote(a, 'cat', idD, { keepStdin: true });
  await writeStdin(a, pid, 'before the crash\n');
  await waitOutput(a, pid, 'before the crash\n');
  const cdp = await browser.context.newCDPSession(d);
  // The renderer dies under the command: its answer never comes.
  void cdp.send('Page.crash').catch(() => {});
  expect(await waitExit(a, pid)).toBe(129);
  expect(await a.evaluate((p) => window.kernel.processes().find((x) => x.pid === p)?.reason, pid)).toBe('link-lost');
  await a.waitForFunction((n) => !window.kernel.nodes().some((x) => x.id === n), idD);
  await d.close().catch(() => {});
});
