/**
 * The `iframe` execution mode beyond the scenarios every mode runs (kernel.test.ts): pipes
 * between modes, kernel calls, supervision, the warm container, and what the container cannot
 * reach (its own origin, storage, the app's channels, the page, the network).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { moduleBytes } from './harness';
import { heardOnAppChannel, install, installWith, run, withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'cat', 'wc', 'seq', 'grep', 'hello', 'pipetool', 'crashy', 'gfx-detach');
  await installWith(page, 'bustool', 'all');
  await installWith(page, 'ps', undefined);
  // Copies that ask to run on the page; granted or not per test.
  const onPage = async (file: string, name: string, permissions: Record<string, string[]>) => {
    const bytes = withManifest(moduleBytes(file), { name, permissions: { ...permissions, run: ['inpage'] } });
    await page.evaluate(async ([n, b]) => void (await window.kernel.install(new Uint8Array(b), { name: n })), [name, bytes] as const);
  };
  await onPage('crashy', 'crashy-page', { subscribe: ['test/*'] });
  await onPage('bustool', 'bustool-page', { publish: ['test/*'], subscribe: ['test/*'] });
  await onPage('cat', 'cat-page', {});
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The container frame (started by an iframe-mode spawn if none runs yet). */
async function container(): Promise<Frame> {
  expect((await run(page, 'hello', { mode: 'iframe' })).code).toBe(0);
  const frames = page.frames().filter((f) => f !== page.mainFrame());
  expect(frames.length).toBe(1);
  return frames[0] as Frame;
}

describe('pipes between modes', () => {
  it('pipes worker | iframe | worker stages and carries 16 MiB with a matching checksum', async () => {
    const r = await page.evaluate(async () => {
      const bytes = new Uint8Array(16 * 1024 * 1024);
      for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
      let h = 2166136261;
      for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
      const procs = await window.kernel.pipeline(
        [
          { name: 'cat', mode: 'worker' },
          { name: 'cat', mode: 'iframe' },
          { name: 'pipetool', args: ['cksum'], mode: 'worker' },
        ],
        { stdin: bytes },
      );
      const out = await new Response(procs[2]?.stdout).text();
      const codes = await Promise.all(procs.map((p) => p.exit));
      const modes = procs.map((p) => window.kernel.processes().find((x) => x.pid === p.pid)?.mode);
      return { out: out.trim(), expected: `${bytes.length} ${h.toString(16).padStart(8, '0')}`, codes, modes };
    });
    expect(r.modes).toEqual(['worker', 'iframe', 'worker']);
    expect(r.codes).toEqual([0, 0, 0]);
    expect(r.out).toBe(r.expected);
  });

  it('runs seq | grep | wc with the middle stage in the frame', async () => {
    const out = await page.evaluate(async () => {
      const procs = await window.kernel.pipeline([
        { name: 'seq', args: ['1', '100'] },
        { name: 'grep', args: ['7'], mode: 'iframe' },
        { name: 'wc' },
      ]);
      await procs[0]?.stdin.close();
      return new Response(procs[2]?.stdout).text();
    });
    expect(out.trim().split(/\s+/)[0]).toBe('19');
  });

  it('gives an iframe writer EPIPE when its worker reader exits early', async () => {
    const r = await page.evaluate(async () => {
      const procs = await window.kernel.pipeline([
        { name: 'pipetool', args: ['gen', String(64 * 1024 * 1024)], mode: 'iframe' },
        { name: 'pipetool', args: ['head', '1000'] },
      ]);
      const [writer, reader] = procs;
      const [err, code, out] = await Promise.all([new Response(writer?.stderr).text(), writer?.exit, new Response(reader?.stdout).text()]);
      return { err, code, out };
    });
    expect(r.out).toContain('head read 1000');
    expect(r.err).toMatch(/EPIPE after \d+/);
    expect(r.code).toBe(3);
  });
});

describe('the bus in the frame', () => {
  /** Starts a module and resolves with its whole stdout once it exits; `ready` once it printed "ready". */
  function spawnSub(page: Page, args: string[], mode: 'worker' | 'iframe') {
    return page.evaluate(
      async ([a, m]) => {
        const p = await window.kernel.spawn('bustool', { args: a, mode: m });
        const reader = p.stdout.getReader();
        const dec = new TextDecoder();
        let out = '';
        while (!out.includes('ready')) out += dec.decode((await reader.read()).value, { stream: true });
        const w = window as unknown as { __subs: Record<number, Promise<string>> };
        w.__subs ??= {};
        w.__subs[p.pid] = (async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return out;
            out += dec.decode(value, { stream: true });
          }
        })();
        return p.pid;
      },
      [args, mode] as const,
    );
  }
  const outputOf = (pid: number) => page.evaluate((p) => (window as unknown as { __subs: Record<number, Promise<string>> }).__subs[p], pid);

  it('delivers to a subscriber in the frame, in order, from the page and from a worker', async () => {
    const pid = await spawnSub(page, ['sub', 'test/in', '6'], 'iframe');
    await page.evaluate(() => {
      for (let i = 0; i < 3; i++) window.kernel.bus.publish('test/in', `page ${i}`);
    });
    const pub = await run(page, 'bustool', { args: ['pub', 'test/in', '3'] });
    expect(pub.stdout).toContain('published 3');
    const out = await outputOf(pid);
    expect(out).toBe('ready\ntest/in: page 0\ntest/in: page 1\ntest/in: page 2\ntest/in: test/in #0\ntest/in: test/in #1\ntest/in: test/in #2\ndropped 0\n');
  });

  it('delivers what a process in the frame publishes to a worker and to the page, in order', async () => {
    const pid = await spawnSub(page, ['sum', 'test/out', '500'], 'worker');
    const pageGot = await page.evaluate(() => {
      const w = window as unknown as { __got: string[]; __unsub: () => void };
      w.__got = [];
      w.__unsub = window.kernel.bus.subscribe('test/out', (d) => w.__got.push(new TextDecoder().decode(d)));
      return true;
    });
    expect(pageGot).toBe(true);
    const pub = await run(page, 'bustool', { mode: 'iframe', args: ['pub', 'test/out', '500'] });
    expect(pub.stdout).toContain('published 500');
    expect(await outputOf(pid)).toMatch(/^ready\ngot 500 bytes \d+ dropped 0\n$/);
    await page.waitForFunction(() => (window as unknown as { __got: string[] }).__got.length === 500);
    const inOrder = await page.evaluate(() => {
      const w = window as unknown as { __got: string[]; __unsub: () => void };
      w.__unsub();
      return w.__got.every((m, i) => m === `test/out #${i}`);
    });
    expect(inOrder).toBe(true);
  });

  it('holds a process in the frame to its grants, and shows the refusal', async () => {
    const r = await run(page, 'crashy', { mode: 'iframe', args: ['sub', 'test/nope'] });
    expect(r.stdout).toContain('subscribe=-2');
    const denied = await page.evaluate(() => window.kernel.denied().filter((d) => d.name === 'crashy').map((d) => d.permission));
    expect(denied).toContain('subscribe:test/nope');
  });

  it('keeps a crashed subscriber\'s subscription for its restart in the frame', async () => {
    await page.evaluate(() => window.kernel.grant('crashy', 'all'));
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const p = await k.spawn('crashy', { args: ['sub', 'test/sup'], mode: 'iframe', restart: { restart: 'transient', backoff: { initialMs: 200 } } });
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let out = '';
      const until = async (text: string) => {
        while (!out.includes(text)) out += dec.decode((await reader.read()).value, { stream: true });
      };
      const inBackoff = new Promise<void>((ok) =>
        k.addEventListener('statechange', (e) => {
          const d = (e as CustomEvent<{ pid: number; state: string }>).detail;
          if (d.pid === p.pid && d.state === 'backoff') ok();
        }),
      );
      await until('ready');
      k.bus.publish('test/sup', 'crash');
      await inBackoff;
      k.bus.publish('test/sup', 'while down');
      await until('got while down');
      k.bus.publish('test/sup', 'quit');
      const code = await p.exit;
      return { out, code };
    });
    expect(r.out).toBe('ready\ngot crash\nready\ngot while down\n');
    expect(r.code).toBe(0);
  });
});

describe('kernel calls from the frame', () => {
  it('answers granted calls and refuses the rest, as in a worker', async () => {
    const granted = await run(page, 'bustool', { mode: 'iframe', args: ['list'] });
    expect(granted.stdout).toMatch(/^hello \S+ \d+$/m);
    const refused = await run(page, 'ps', { mode: 'iframe' });
    expect(refused.stdout + refused.stderr).toMatch(/-2\b|denied|EACCES|not permitted/i);
    const denied = await page.evaluate(() => window.kernel.denied().filter((d) => d.name === 'ps').map((d) => d.permission));
    expect(denied).toContain('kernel:ps');
  });
});

describe('supervision in the frame', () => {
  it('restarts a transient process in the frame under its pid, and its watchdog ends a spin', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const p = await k.spawn('crashy', { args: ['exit', '3'], mode: 'iframe', restart: { restart: 'transient', intensity: 1, backoff: { initialMs: 10 } } });
      const out = await new Response(p.stdout).text();
      const code = await p.exit;
      const row = k.processes().find((x) => x.pid === p.pid);
      const spin = await k.spawn('crashy', { args: ['spin'], mode: 'iframe', watchdogMs: 100 });
      const spinCode = await spin.exit;
      const spinRow = k.processes().find((x) => x.pid === spin.pid);
      return { out, code, reason: row?.reason, incarnation: row?.incarnation, spinCode, spinReason: spinRow?.reason };
    });
    expect(r).toEqual({ out: 'exit 3\nexit 3\n', code: 3, reason: 'restart-limit', incarnation: 2, spinCode: 137, spinReason: 'watchdog-expired' });
  });
});

describe('windows in the frame', () => {
  it('never hands a page canvas into the frame: the window shows bitmaps the module sends', async () => {
    const r = await page.evaluate(async () => {
      // Frames of the size it opens (a first frame of another size would resize the window).
      const p = await window.kernel.spawn('gfx-detach', { args: ['pattern', '200', '100'], mode: 'iframe' });
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let out = '';
      while (!out.includes('open')) out += dec.decode((await reader.read()).value, { stream: true });
      const win = window.kernel.gfx.windows().find((w) => w.pid === p.pid);
      // A canvas whose control was transferred throws here; this one is still the page's.
      const pageOwned = win !== undefined && win.canvas.getContext('bitmaprenderer') !== null;
      await p.kill();
      return { out, pageOwned, size: win && [win.width, win.height], detach: win?.detach };
    });
    expect(r.out).toContain('open 0');
    expect(r.pageOwned).toBe(true);
    expect(r.size).toEqual([200, 100]);
    // Detachable, as its manifest's canvas asks.
    expect(r.detach).toBe(true);
  });
});

describe('inpage mode', () => {
  it('runs only what the person granted run:inpage, a JS module included', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const before = await k.spawn('cat-page', { mode: 'inpage' }).then(() => 'ran', (e: { code: string }) => e.code);
      const info = await k.grant('cat-page', ['run:inpage']);
      const p = await k.spawn('cat-page', { mode: 'inpage', stdin: new TextEncoder().encode('on the page\n') });
      const out = await new Response(p.stdout).text();
      return { before, granted: info.grants.run, out, code: await p.exit, mode: k.processes().find((x) => x.pid === p.pid)?.mode };
    });
    expect(r).toEqual({ before: 'kernel/denied', granted: ['inpage'], out: 'on the page\n', code: 0, mode: 'inpage' });
    const js = await page.evaluate(async () => {
      await window.kernel.install(new File(['export default () => 0;'], 'pagejs.js'));
      return window.kernel.spawn('pagejs', { mode: 'inpage' }).then(() => 'ran', (e: { code: string }) => e.code);
    });
    expect(js).toBe('kernel/denied');
  });

  it('a module waiting on the page does not hold it; kill ends it', async () => {
    await page.evaluate(() => window.kernel.grant('cat-page', ['run:inpage']));
    const r = await page.evaluate(async () => {
      const p = await window.kernel.spawn('cat-page', { mode: 'inpage' });
      const w = p.stdin.getWriter();
      await w.write(new TextEncoder().encode('one\n'));
      const out = p.stdout.getReader();
      let first = '';
      while (!first.includes('\n')) {
        const chunk = await out.read();
        if (chunk.done) break;
        first += new TextDecoder().decode(chunk.value);
      }
      // It now waits for more input, suspended; the page's timers run meanwhile (a module that
      // held the page would keep these from ever firing, and the test would time out).
      let ticks = 0;
      await new Promise<void>((ok) => {
        const timer = setInterval(() => {
          if (++ticks < 5) return;
          clearInterval(timer);
          ok();
        }, 10);
      });
      const waiting = window.kernel.processes().find((x) => x.pid === p.pid)?.state;
      await p.kill();
      return { first, ticks, waiting, code: await p.exit, reason: window.kernel.processes().find((x) => x.pid === p.pid)?.reason };
    });
    expect(r.first).toBe('one\n');
    expect([r.ticks, r.waiting]).toEqual([5, 'running']);
    expect([r.code, r.reason]).toEqual([137, 'killed']);
  });

  it('its watchdog refuses the first call after computing too long, and ends it', async () => {
    await page.evaluate(() => window.kernel.grant('crashy-page', ['run:inpage']));
    const r = await page.evaluate(async () => {
      const p = await window.kernel.spawn('crashy-page', { mode: 'inpage', args: ['busy', '600'], watchdogMs: 100 });
      const out = await new Response(p.stdout).text();
      const row = window.kernel.processes().find((x) => x.pid === p.pid);
      return { out, code: await p.exit, reason: row?.reason, message: row?.message };
    });
    expect(r.out).toBe('busy\n');
    expect([r.code, r.reason]).toEqual([137, 'watchdog-expired']);
    expect(r.message).toContain('next call was refused');
  });

  it('has the bus both ways, in order, from the page', async () => {
    await page.evaluate(() => window.kernel.grant('bustool-page', 'all'));
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const sub = await k.spawn('bustool-page', { mode: 'inpage', args: ['sub', 'test/page', '3'] });
      const reader = sub.stdout.getReader();
      const dec = new TextDecoder();
      let out = '';
      while (!out.includes('ready')) out += dec.decode((await reader.read()).value, { stream: true });
      for (const t of ['x', 'y']) k.bus.publish('test/page', t);
      const pub = await k.spawn('bustool', { args: ['pub', 'test/page', '1'] });
      await pub.exit;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += dec.decode(value, { stream: true });
      }
      return { out, code: await sub.exit };
    });
    expect(r.out).toBe('ready\ntest/page: x\ntest/page: y\ntest/page: test/page #0\ndropped 0\n');
    expect(r.code).toBe(0);
  });
});

describe('the container', () => {
  it('is one frame, kept warm between spawns, sandboxed without allow-same-origin', async () => {
    await container();
    const attrs = await page.evaluate(() => [...document.querySelectorAll('iframe')].map((f) => ({ sandbox: f.getAttribute('sandbox'), allow: f.getAttribute('allow') })));
    expect(attrs).toEqual([{ sandbox: 'allow-scripts', allow: 'cross-origin-isolated' }]);
  });

  it('cannot reach the app: its origin, storage, caches, channels, the page, navigation, the network', async () => {
    const frame = await container();
    const probe = await frame.evaluate(async (appUrl) => {
      const attempt = async (f: () => unknown): Promise<string> => {
        try {
          const v = await f();
          return `reached: ${String(v)}`;
        } catch (e) {
          return `refused: ${(e as Error).name}`;
        }
      };
      return {
        origin: location.origin,
        isolated: crossOriginIsolated,
        indexedDB: await attempt(() => indexedDB.open('webmk')),
        localStorage: await attempt(() => localStorage.length),
        caches: await attempt(() => caches.keys()),
        parentDocument: await attempt(() => (parent as Window).document.title),
        topNavigation: await attempt(() => {
          (top as Window).location.href = 'about:blank';
          return 'assigned';
        }),
        fetchApp: await attempt(() => fetch(new URL('index.html', appUrl).href).then((r) => r.status)),
        fetchOther: await attempt(() => fetch('http://127.0.0.1:9/').then((r) => r.status)),
      };
    }, server.url);
    expect(probe.origin).toBe('null');
    expect(probe.isolated).toBe(true);
    for (const key of ['indexedDB', 'localStorage', 'caches', 'parentDocument', 'topNavigation', 'fetchApp', 'fetchOther'] as const) {
      expect(probe[key], key).toMatch(/^refused/);
    }
    // The page is still where it was.
    expect(page.url()).toBe(server.url);
  });

  it("does not hear or reach the app's BroadcastChannels", async () => {
    const frame = await container();
    const name = await page.evaluate(() => `webmk:${new URL('./', location.href).pathname}:registry`);
    const heard = await heardOnAppChannel(page, name, () =>
      frame.evaluate((n) => {
        const c = new BroadcastChannel(n);
        c.postMessage('from the frame');
        c.close();
      }, name),
    );
    expect(heard).toEqual(['control']);
  });

  it('ignores what the frame posts to the page window, and keeps working', async () => {
    const frame = await container();
    await frame.evaluate(() => {
      parent.postMessage({ v: 1, type: 'ready' }, '*');
      parent.postMessage({ v: 1, type: 'out', sid: 1, fd: 1, data: new Uint8Array(8) }, '*');
      parent.postMessage('garbage', '*');
    });
    const r = await run(page, 'hello', { mode: 'iframe', args: ['again'] });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('argv[1]=again');
  });
});
