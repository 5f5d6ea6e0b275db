/** The pub/sub bus and kernel calls, between modules in real workers and the page. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { install, installWith, output, run, startBackground, waitExit, waitOutput } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await installWith(page, 'bustool', 'all');
  await install(page, 'hello');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Page-side subscription collecting text messages into window.__got[key]. */
function collect(p: Page, key: string, pattern: string): Promise<void> {
  return p.evaluate(
    ([k, t]) => {
      const w = window as unknown as { __got: Record<string, string[]> };
      w.__got ??= {};
      w.__got[k] = [];
      window.kernel.bus.subscribe(t, (data, topic) => w.__got[k]?.push(`${topic}: ${new TextDecoder().decode(data)}`));
    },
    [key, pattern] as const,
  );
}

function got(p: Page, key: string): Promise<string[]> {
  return p.evaluate((k) => (window as unknown as { __got: Record<string, string[]> }).__got[k] ?? [], key);
}

describe('permissions', () => {
  it('refuses publish, subscribe and kernel calls without a grant, and records the attempts', async () => {
    await installWith(page, 'bustool', undefined);
    const info = (await page.evaluate(() => window.kernel.modules())).find((m) => m.name === 'bustool');
    expect(info?.requested).toEqual(expect.arrayContaining(['publish:test/*', 'subscribe:test/*', 'kernel:list']));
    expect(info?.grants).toEqual({ publish: [], subscribe: [], kernel: [] });
    expect((await run(page, 'bustool', { args: ['try-pub', 'test/a'] })).stdout).toBe('publish=-2\n');
    expect((await run(page, 'bustool', { args: ['try-sub', 'test/a'] })).stdout).toBe('subscribe=-2\n');
    expect((await run(page, 'bustool', { args: ['list'] })).stdout).toBe('ERR=-2\n');
    const denied = await page.evaluate(() => window.kernel.denied().map((d) => `${d.name} ${d.permission}`));
    expect(denied).toEqual(expect.arrayContaining(['bustool publish:test/a', 'bustool subscribe:test/a', 'bustool kernel:list']));
  });

  it('grants only what was asked, and a narrower grant revokes the rest', async () => {
    await page.evaluate(() => window.kernel.grant('bustool', ['publish:test/*', 'publish:not/asked']));
    const info = (await page.evaluate(() => window.kernel.modules())).find((m) => m.name === 'bustool');
    expect(info?.grants.publish).toEqual(['test/*']);
    expect((await run(page, 'bustool', { args: ['try-pub', 'test/a'] })).stdout).toBe('publish=0\n');
    expect((await run(page, 'bustool', { args: ['try-pub', 'other/a'] })).stdout).toBe('publish=-2\n');
    expect((await run(page, 'bustool', { args: ['try-sub', 'test/a'] })).stdout).toBe('subscribe=-2\n');
    await page.evaluate(() => window.kernel.grant('bustool', 'all'));
    expect((await run(page, 'bustool', { args: ['try-sub', 'test/*'] })).stdout).toBe('subscribe=0\n');
  });
});

describe('delivery', () => {
  it('delivers a publisher\'s messages in order to the page', async () => {
    await collect(page, 'order', 'test/order');
    const r = await run(page, 'bustool', { args: ['pub', 'test/order', '1000'] });
    expect(r.stdout).toBe('published 1000\n');
    await page.waitForFunction(() => (window as unknown as { __got: Record<string, string[]> }).__got.order?.length === 1000);
    expect(await got(page, 'order')).toEqual(Array.from({ length: 1000 }, (_, i) => `test/order: test/order #${i}`));
  });

  it('fans out to every subscriber: modules and the page', async () => {
    const subs = await Promise.all([1, 2, 3].map(() => startBackground(page, 'bustool', ['sub', 'test/fan/*', '50'])));
    for (const pid of subs) await waitOutput(page, pid, 'ready');
    await collect(page, 'fan', 'test/fan/*');
    expect((await run(page, 'bustool', { args: ['pub', 'test/fan/x', '50'] })).code).toBe(0);
    for (const pid of subs) {
      expect(await waitExit(page, pid)).toBe(0);
      const lines = (await output(page, pid)).trim().split('\n');
      expect(lines.slice(1, 51)).toEqual(Array.from({ length: 50 }, (_, i) => `test/fan/x: test/fan/x #${i}`));
      expect(lines.at(-1)).toBe('dropped 0');
    }
    expect(await got(page, 'fan')).toHaveLength(50);
  });

  it('delivers what the page publishes to a module blocked in webmk_recv', async () => {
    const pid = await startBackground(page, 'bustool', ['sub', 'test/in', '3']);
    await waitOutput(page, pid, 'ready');
    await page.evaluate(() => {
      for (const m of ['one', 'two', 'three']) window.kernel.bus.publish('test/in', m);
    });
    expect(await waitExit(page, pid)).toBe(0);
    expect(await output(page, pid)).toBe('ready\ntest/in: one\ntest/in: two\ntest/in: three\ndropped 0\n');
  });

  it('times out a receive with -EAGAIN', async () => {
    const r = await run(page, 'bustool', { args: ['sub', 'test/quiet', '1', '50'] });
    expect(r.stdout).toContain('recv=-6');
  });

  it('counts what overflows a slow subscriber, and drops nothing else', async () => {
    const pid = await startBackground(page, 'bustool', ['slow', 'test/flood', '400', '0']);
    await waitOutput(page, pid, 'ready');
    // 3,000 messages of 1,000 bytes: about 3 MB into a 1 MiB inbox.
    expect((await run(page, 'bustool', { args: ['pub', 'test/flood', '3000', '1000'] })).code).toBe(0);
    expect(await waitExit(page, pid)).toBe(0);
    const m = /got (\d+) dropped (\d+)/.exec(await output(page, pid));
    const [gotN, dropped] = [Number(m?.[1]), Number(m?.[2])];
    expect(dropped).toBeGreaterThan(0);
    expect(gotN).toBeGreaterThanOrEqual(1000);
    expect(gotN + dropped).toBe(3000);
  });

  it('limits the message size', async () => {
    expect((await run(page, 'bustool', { args: ['big', 'test/big', '65536'] })).stdout).toBe('publish=0\n');
    expect((await run(page, 'bustool', { args: ['big', 'test/big', '65537'] })).stdout).toBe('publish=-35\n');
    const codes = await page.evaluate(() => {
      const tryIt = (f: () => void) => {
        try {
          f();
          return 'ok';
        } catch (e) {
          return (e as { code: string }).code;
        }
      };
      return [
        tryIt(() => window.kernel.bus.publish('test/big', new Uint8Array(65537))),
        tryIt(() => window.kernel.bus.publish('bad topic', 'x')),
        tryIt(() => window.kernel.bus.publish('', 'x')),
      ];
    });
    expect(codes).toEqual(['bus/too-large', 'bus/invalid-topic', 'bus/invalid-topic']);
  });

  it('bounds the subscriptions one process holds (64), so no module takes the tab\'s; the page has no bound', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const js = `/* webmk.manifest {"name":"subhog","permissions":{"subscribe":["test/*"]}} */
export default async function main(webmk) {
  const subs = [];
  try {
    for (let i = 0; i < 100; i++) subs.push(await webmk.bus.subscribe('test/hog/' + i));
    await webmk.print('all 100\\n');
  } catch (e) {
    await webmk.print(subs.length + ' then ' + e.code + '\\n');
  }
  for (const s of subs.slice(0, 10)) await s.close();
  try {
    for (let i = 0; i < 10; i++) subs.push(await webmk.bus.subscribe('test/again/' + i));
    await webmk.print('10 more after closing 10\\n');
  } catch (e) {
    await webmk.print('again: ' + e.code + '\\n');
  }
  return 0;
}`;
      await k.install(new File([js], 'subhog.js'), { grant: 'all' });
      const p = await k.spawn('subhog');
      await p.stdin.close();
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exit]);
      const stops = Array.from({ length: 100 }, (_, i) => k.bus.subscribe(`test/page/${i}`, () => {}));
      const pageHeld = k.bus.stats().subscriptions.filter((s) => s.pattern.startsWith('test/page/')).length;
      for (const stop of stops) stop();
      await k.uninstall('subhog');
      return { out, code, pageHeld };
    });
    expect(r.out).toBe('64 then bus/too-large\n10 more after closing 10\n');
    expect(r.code).toBe(0);
    expect(r.pageHeld).toBe(100);
  });

  it('shows subscriptions and their counters in stats', async () => {
    const pid = await startBackground(page, 'bustool', ['sub', 'test/stats', '1']);
    await waitOutput(page, pid, 'ready');
    const stats = await page.evaluate(() => window.kernel.bus.stats());
    expect(stats.subscriptions).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'bustool', pattern: 'test/stats', pid })]));
    await page.evaluate(() => window.kernel.bus.publish('test/stats', 'bye'));
    expect(await waitExit(page, pid)).toBe(0);
  });
});

describe('a flood', () => {
  it('does not starve the page that subscribes to it (regression: the drain loop yielded to itself)', async () => {
    const ticks = await page.evaluate(async () => {
      let count = 0;
      let ticks = 0;
      const stop = window.kernel.bus.subscribe('test/flood-page', () => count++);
      const p = await window.kernel.spawn('bustool', { args: ['pub', 'test/flood-page', '100000000'] });
      // Ten timer ticks while the flood runs (a starved page would never get them: a timeout).
      await new Promise<void>((ok) => {
        const timer = setInterval(() => {
          if (++ticks < 10 || count === 0) return;
          clearInterval(timer);
          ok();
        }, 10);
      });
      const flooding = window.kernel.processes().find((x) => x.pid === p.pid)?.state;
      await p.kill();
      stop();
      return flooding === 'running' ? ticks : -1;
    });
    expect(ticks).toBeGreaterThanOrEqual(10);
  });
});

describe('kill', () => {
  it('stops a killed publisher at once, though its worker takes a moment to stop', async () => {
    const after = await page.evaluate(async () => {
      let count = 0;
      const stop = window.kernel.bus.subscribe('test/zombie', () => count++, { queueBytes: 4 * 1024 * 1024 });
      const p = await window.kernel.spawn('bustool', { args: ['pub', 'test/zombie', '100000000'] });
      while (count < 1000) await new Promise((r) => setTimeout(r, 5));
      await p.kill();
      // Let the page drain what was queued before the kill (up to 4 MiB: on a loaded machine that
      // takes a while): until three looks 50 ms apart see no new message.
      let quiet = 0;
      let seen = count;
      while (quiet < 3) {
        await new Promise((r) => setTimeout(r, 50));
        quiet = count === seen ? quiet + 1 : 0;
        seen = count;
      }
      const atKill = count;
      await new Promise((r) => setTimeout(r, 700));
      stop();
      return count - atKill;
    });
    expect(after).toBe(0);
  });
});

describe('global topics', () => {
  it('reaches the same app in another tab, declared by a module\'s manifest or by the page', async () => {
    const other = await browser.context.newPage();
    await other.goto(server.url);
    await waitForKernel(other);
    await collect(other, 'remote', 'global/chat');
    // bustool's manifest declares "globalTopics": ["global/*"]; spawning it declares them.
    expect((await run(page, 'bustool', { args: ['pub', 'global/chat', '5'] })).code).toBe(0);
    await other.waitForFunction(() => (window as unknown as { __got: Record<string, string[]> }).__got.remote?.length === 5);
    expect(await got(other, 'remote')).toEqual(Array.from({ length: 5 }, (_, i) => `global/chat: global/chat #${i}`));
    expect(await other.evaluate(() => window.kernel.bus.stats().globals)).toContain('global/*');
    // A pattern the page declares global, and a local topic that stays in its tab.
    await collect(other, 'shared', 'shared/*');
    await collect(other, 'local', 'test/local');
    await page.evaluate(() => window.kernel.bus.declareGlobal('shared/*'));
    await other.waitForFunction(() => window.kernel.bus.stats().globals.includes('shared/*'));
    await page.evaluate(() => {
      window.kernel.bus.publish('test/local', 'here only');
      window.kernel.bus.publish('shared/note', 'everywhere');
    });
    await other.waitForFunction(() => (window as unknown as { __got: Record<string, string[]> }).__got.shared?.length === 1);
    expect(await got(other, 'shared')).toEqual(['shared/note: everywhere']);
    expect(await got(other, 'local')).toEqual([]);
    await other.close();
  });
});

describe('kernel calls', () => {
  it('lists modules and processes, spawns and kills, when granted', async () => {
    const list = await run(page, 'bustool', { args: ['list'] });
    expect(list.stdout).toMatch(/^bustool 1\.0\.0 \d+$/m);
    expect(list.stdout).toMatch(/^hello /m);
    const ps = await run(page, 'bustool', { args: ['ps'] });
    expect(ps.stdout).toMatch(/^\d+ bustool running$/m);
    const spawned = await run(page, 'bustool', { args: ['spawn', 'hello', 'a', 'b'] });
    const pid = Number(/pid=(\d+)/.exec(spawned.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    await page.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', pid);
    expect((await page.evaluate(() => window.kernel.processes())).find((x) => x.pid === pid)?.args).toEqual(['hello', 'a', 'b']);
    expect((await run(page, 'bustool', { args: ['spawn', 'nope'] })).stdout).toBe('pid=-44\n');
    const victim = await startBackground(page, 'bustool', ['sub', 'test/never', '1']);
    await waitOutput(page, victim, 'ready');
    expect((await run(page, 'bustool', { args: ['kill', String(victim)] })).stdout).toBe('kill=0\n');
    expect(await waitExit(page, victim)).toBe(137);
    expect((await run(page, 'bustool', { args: ['kill', '99999'] })).stdout).toBe('kill=-71\n');
  });
});
