/**
 * JS modules in real Chromium: installed like a .wasm (the manifest in a leading comment), run in
 * the iframe container by default with one handle (args, env, stdio, exit, the bus with its
 * grants, kernel calls), and unable to reach what the container cannot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { heardOnAppChannel, install, installWith, run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'upper', 'hello', 'cat');
  await installWith(page, 'jslogger', 'all');
  await installWith(page, 'jsprobe', 'all');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('installing a JS module', () => {
  it('reads its manifest from the leading comment, runs nothing, and lists it as js', async () => {
    const info = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'jsprobe'));
    expect(info).toMatchObject({ kind: 'js', command: true, version: '1.0.0', description: 'JS module test tool' });
    expect(info?.requested).toEqual(['publish:test/*', 'subscribe:test/*', 'kernel:list', 'run:worker', 'run:inpage']);
    const wasm = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'hello')?.kind);
    expect(wasm).toBe('wasm');
  });

  it('takes a .js file by its name, and refuses bad ones with a code, leaving the registry as it was', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const before = (await k.modules()).length;
      const ok = await k.install(new File(['export default () => 0;\n'], 'tiny-tool.mjs'));
      const codes = await Promise.all(
        [
          new File([new Uint8Array([0xff, 0xfe, 0x41])], 'bad.js'),
          new File(['/* webmk.manifest { not json } */\nexport default () => 0;'], 'broken.js'),
          new File(['/* webmk.manifest {"name": 3} */\nexport default () => 0;'], 'typed.js'),
          new File(['just text'], 'notes.txt'),
        ].map((f) => k.install(f).then(() => 'ok', (e: { code: string }) => e.code)),
      );
      const after = (await k.modules()).length;
      return { name: ok.name, kind: ok.kind, codes, added: after - before };
    });
    expect(r.name).toBe('tiny-tool');
    expect(r.kind).toBe('js');
    expect(r.codes).toEqual(['registry/invalid-script', 'registry/invalid-manifest', 'registry/invalid-manifest', 'registry/not-wasm']);
    expect(r.added).toBe(1);
  });
});

describe('running a JS module', () => {
  it('runs in iframe mode by default, with its args and env', async () => {
    const r = await run(page, 'jsprobe', { args: ['args', 'two words'], env: { A: '1' } });
    expect(r.stdout).toBe('["jsprobe","args","two words"]\n');
    const env = await run(page, 'jsprobe', { args: ['env'], env: { A: '1', EMPTY: '' } });
    expect(JSON.parse(env.stdout)).toEqual({ A: '1', EMPTY: '' });
    const mode = await page.evaluate(() => window.kernel.processes().filter((p) => p.name === 'jsprobe').map((p) => p.mode));
    expect(new Set(mode)).toEqual(new Set(['iframe']));
  });

  it('runs outside the container only when granted run:worker or run:inpage', async () => {
    const codes = await page.evaluate(() =>
      Promise.all(
        [
          ['upper', 'worker'],
          ['upper', 'inpage'],
          ['jsprobe', 'remote'],
        ].map(([n, mode]) => window.kernel.spawn(n as string, { mode: mode as 'worker' }).then(() => 'ok', (e: { code: string }) => e.code)),
      ),
    );
    expect(codes).toEqual(['kernel/denied', 'kernel/denied', 'kernel/bad-argument']);
    for (const mode of ['worker', 'inpage'] as const) {
      const r = await run(page, 'jsprobe', { mode, args: ['args', mode] });
      expect([r.stdout, r.code]).toEqual([`["jsprobe","args","${mode}"]\n`, 0]);
      const exit = await run(page, 'jsprobe', { mode, args: ['exit', '5'] });
      expect(exit.code).toBe(5);
      const rows = await page.evaluate((m) => window.kernel.processes().filter((p) => p.name === 'jsprobe' && p.mode === m).length, mode);
      expect(rows).toBeGreaterThan(0);
    }
  });

  it('reads stdin and writes stdout and stderr (the upper example)', async () => {
    const r = await run(page, 'upper', { stdin: 'one\ntwo\nthree' });
    expect(r.stdout).toBe('ONE\nTWO\nTHREE\n');
    expect(r.stderr).toBe('upper: 3 lines\n');
    expect(r.code).toBe(0);
    expect((await run(page, 'upper', { args: ['from', 'args'] })).stdout).toBe('FROM ARGS\n');
  });

  it('ends with its exit code, crashed when it throws, failed when it does not load', async () => {
    const exit = await run(page, 'jsprobe', { args: ['exit', '7'] });
    expect([exit.stdout, exit.code, exit.reason]).toEqual(['about to exit\n', 7, 'exited']);
    const thrown = await run(page, 'jsprobe', { args: ['throw'] });
    expect([thrown.code, thrown.reason]).toEqual([134, 'crashed']);
    expect(thrown.message).toContain('thrown on purpose');
    await page.evaluate(async () => {
      await window.kernel.install(new File(['export default function main( {'], 'syntax.js'));
      await window.kernel.install(new File(['throw new Error("at load")'], 'loadthrow.js'));
      await window.kernel.install(new File(['export const x = 1;'], 'nomain.js'));
    });
    for (const name of ['syntax', 'loadthrow', 'nomain']) {
      const r = await run(page, name);
      expect([name, r.code, r.reason]).toEqual([name, 126, 'failed']);
    }
    const nomain = await run(page, 'nomain');
    expect(nomain.message).toContain('main');
  });

  it('is killed in a tight loop, and the page stays responsive', async () => {
    const r = await page.evaluate(async () => {
      const p = await window.kernel.spawn('jsprobe', { args: ['spin'] });
      await p.stdout.getReader().read();
      // Timer ticks while it spins (a page it held would never get them: a timeout).
      let ticks = 0;
      await new Promise<void>((ok) => {
        const timer = setInterval(() => {
          if (++ticks < 5) return;
          clearInterval(timer);
          ok();
        }, 10);
      });
      const spinning = window.kernel.processes().find((x) => x.pid === p.pid)?.state;
      await p.kill();
      return { code: await p.exit, reason: window.kernel.processes().find((x) => x.pid === p.pid)?.reason, ticks, spinning };
    });
    expect(r.code).toBe(137);
    expect(r.reason).toBe('killed');
    expect([r.ticks, r.spinning]).toEqual([5, 'running']);
  });

  it('has a watchdog that counts its handle calls: a loop is ended, a wait on the bus is not', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const waiting = await k.spawn('jslogger', { args: ['test/wd', '1'], watchdogMs: 150 });
      const reader = waiting.stdout.getReader();
      const dec = new TextDecoder();
      let out = '';
      while (!out.includes('listening')) out += dec.decode((await reader.read()).value, { stream: true });
      const spin = await k.spawn('jsprobe', { args: ['spin'], watchdogMs: 150 });
      const spinCode = await spin.exit;
      const spinReason = k.processes().find((x) => x.pid === spin.pid)?.reason;
      const stillWaiting = k.processes().find((x) => x.pid === waiting.pid)?.state;
      k.bus.publish('test/wd', 'done');
      return { spinCode, spinReason, stillWaiting, code: await waiting.exit };
    });
    expect(r).toEqual({ spinCode: 137, spinReason: 'watchdog-expired', stillWaiting: 'running', code: 0 });
  });

  it('is restarted under its pid by its restart policy, as any module', async () => {
    const r = await page.evaluate(async () => {
      const p = await window.kernel.spawn('jsprobe', { args: ['exit', '3'], restart: { restart: 'transient', intensity: 1, backoff: { initialMs: 10 } } });
      const out = await new Response(p.stdout).text();
      return { out, code: await p.exit, row: window.kernel.processes().find((x) => x.pid === p.pid) };
    });
    expect(r.out).toBe('about to exit\nabout to exit\n');
    expect(r.row).toMatchObject({ reason: 'restart-limit', incarnation: 2 });
  });
});

describe('the handle: bus and kernel calls', () => {
  it('subscribes and receives in order from the page; publishes to the page with its grant', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const got: string[] = [];
      const unsub = k.bus.subscribe('test/fromjs', (d) => got.push(new TextDecoder().decode(d)));
      const p = await k.spawn('jsprobe', { args: ['sub', 'test/tojs', '3'] });
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let out = '';
      while (!out.includes('ready')) out += dec.decode((await reader.read()).value, { stream: true });
      for (const t of ['a', 'b', 'c']) k.bus.publish('test/tojs', t);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += dec.decode(value, { stream: true });
      }
      const pub = await k.spawn('jsprobe', { args: ['pub', 'test/fromjs', 'hello page'] });
      await pub.exit;
      await new Promise((ok) => setTimeout(ok, 50));
      unsub();
      return { out, got };
    });
    expect(r.out).toBe('ready\ntest/tojs: a\ntest/tojs: b\ntest/tojs: c\n');
    expect(r.got).toEqual(['hello page']);
  });

  it('is held to its grants: an ungranted publish and kernel call are refused with codes, and shown', async () => {
    const denied = await run(page, 'jsprobe', { args: ['denied'] });
    expect(denied.stdout).toBe('refused bus/denied\n');
    const listed = await run(page, 'jsprobe', { args: ['list'] });
    expect(listed.stdout).toMatch(/^hello \S+ \d+$/m);
    const ps = await run(page, 'jsprobe', { args: ['ps'] });
    expect(ps.stdout).toBe('refused kernel/denied\n');
    const attempts = await page.evaluate(() => window.kernel.denied().filter((d) => d.name === 'jsprobe').map((d) => d.permission));
    expect(attempts).toEqual(expect.arrayContaining(['publish:other/x', 'kernel:ps']));
  });

  it('the jslogger example prints what is published on its pattern', async () => {
    const r = await page.evaluate(async () => {
      const p = await window.kernel.spawn('jslogger', { args: ['sensors/*', '2'] });
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let out = '';
      while (!out.includes('listening')) out += dec.decode((await reader.read()).value, { stream: true });
      window.kernel.bus.publish('sensors/temp', '21.5');
      window.kernel.bus.publish('sensors/rh', '40');
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += dec.decode(value, { stream: true });
      }
      return out;
    });
    expect(r).toBe('listening on sensors/*\nsensors/temp: 21.5\nsensors/rh: 40\n');
  });
});

describe('a JS module posting garbage', () => {
  it('ends crashed with a code in every mode, forges nothing, and leaves other processes alone', async () => {
    for (const mode of ['iframe', 'worker'] as const) {
      const r = await page.evaluate(async (m) => {
        const k = window.kernel;
        const bystander = await k.spawn('cat', { mode: 'worker' });
        const p = await k.spawn('jsprobe', { mode: m, args: ['garbage'] });
        const code = await p.exit;
        const row = k.processes().find((x) => x.pid === p.pid);
        const other = k.processes().find((x) => x.pid === bystander.pid)?.state;
        await bystander.stdin.close();
        return { code, reason: row?.reason, message: row?.message, other, otherExit: await bystander.exit };
      }, mode);
      expect([mode, r.code, r.reason]).toEqual([mode, 134, 'crashed']);
      expect(r.message).toMatch(/malformed/);
      // The bystander was not touched: still there (running, or still starting), then a clean exit.
      expect(r.other).not.toBe('exited');
      expect(r.otherExit).toBe(0);
    }
  });
});

describe('what a JS module cannot reach', () => {
  it("cannot open the app's storage, fetch, touch a document, load scripts or eval; its broadcast does not reach the app", async () => {
    const channel = await page.evaluate(() => `webmk:${new URL('./', location.href).pathname}:registry`);
    let stdout = '';
    const heard = await heardOnAppChannel(page, channel, async () => {
      stdout = (await run(page, 'jsprobe', { args: ['reach', new URL('index.html', server.url).href, channel] })).stdout;
    });
    expect(stdout.split('\n').filter(Boolean)).toEqual([
      'indexedDB: refused',
      'caches: refused',
      'fetch: refused',
      'document: refused',
      'importScripts: refused',
      'Function: refused',
      // The container's realms share one opaque origin: a contained module gets no channel at all.
      'BroadcastChannel: refused',
    ]);
    expect(heard).toEqual(['control']);
  });

  it('a JS module file dropped on the shell installs and runs from its card', async () => {
    await page.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'upper.js', { type: 'text/javascript' }));
      for (const type of ['dragenter', 'dragover', 'drop']) window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, moduleBytes('upper'));
    const card = page.locator('webmk-registry li.module[data-name="upper"]');
    await card.waitFor();
    await card.getByLabel('Arguments').fill('shout');
    await card.getByRole('button', { name: 'Run upper' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('webmk-terminal[data-name="upper"]')].some((t) => (t as unknown as { text: string }).text.includes('SHOUT')));
  });
});
