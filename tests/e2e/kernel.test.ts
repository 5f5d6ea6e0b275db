/** The kernel through `window.kernel`, in real Chromium, against the built app under /app/. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { moduleBytes } from './harness';
import { run, withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

/** Every scenario runs in each execution mode: callers never see the difference. */
const MODES = ['worker', 'iframe', 'inpage'] as const;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  // Each asks for run:inpage (and is granted it), so the inpage scenarios may run it on the page.
  for (const name of ['hello', 'cat', 'wc', 'files', 'ask', 'sleep', 'spin', 'trap', 'oom', 'bigmem', 'reactor', 'sock', 'stdin-poll']) {
    const bytes = withManifest(moduleBytes(name), { name, permissions: { run: ['inpage'] } });
    await page.evaluate(async ([n, b]) => void (await window.kernel.install(new Uint8Array(b), { name: n, grant: 'all' })), [name, bytes] as const);
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.each(MODES)('%s mode', (mode) => {
  describe('spawn', () => {
    it('runs hello with exactly the args and env given, argv[0] being the module name', async () => {
      const r = await run(page, 'hello', { mode, args: ['one', 'two words', 'ünï'], env: { GREETING: 'hi', EMPTY: '' } });
      expect(r.code).toBe(0);
      expect(r.reason).toBe('exited');
      expect(r.stdout).toContain('hello, world');
      expect(r.stdout).toContain('argv[0]=hello');
      expect(r.stdout).toContain('argv[2]=two words');
      expect(r.stdout).toContain('argv[3]=ünï');
      const envLines = r.stdout.split('\n').filter((l) => l.startsWith('env '));
      expect(envLines.sort()).toEqual(['env EMPTY=', 'env GREETING=hi']);
    });

    it('reports the exit code the module chose', async () => {
      const r = await run(page, 'hello', { mode, args: ['--exit', '7'] });
      expect(r.code).toBe(7);
      expect(r.reason).toBe('exited');
    });

    it('rejects an unknown module with kernel/unknown-module', async () => {
      const code = await page.evaluate(() => window.kernel.spawn('no-such-module').catch((e: { code: string }) => e.code));
      expect(code).toBe('kernel/unknown-module');
    });

    it('rejects bad options with kernel/bad-argument', async () => {
      const codes = await page.evaluate(async () => {
        const k = window.kernel as unknown as { spawn(n: string, o: unknown): Promise<unknown> };
        const bad = [{ args: [1] }, { env: { A: 1 } }, { files: { '/x': 'text' } }, { mode: 'remote' }, 'nope'];
        return Promise.all(bad.map((o) => k.spawn('hello', o).then(() => 'ok', (e: { code: string }) => e.code)));
      });
      expect(codes).toEqual(Array(5).fill('kernel/bad-argument'));
    });

    it('lists processes with their state and reason', async () => {
      const r = await run(page, 'hello', { mode });
      expect(r.code).toBe(0);
      const rows = await page.evaluate(() => window.kernel.processes());
      const last = rows.at(-1);
      expect(last).toMatchObject({ name: 'hello', mode, state: 'exited', exitCode: 0, reason: 'exited' });
    });
  });

  describe('stdio', () => {
    it('pipes bytes given as stdin through cat and closes stdout at exit', async () => {
      const input = 'line one\nline two\n'.repeat(1000);
      const r = await run(page, 'cat', { mode, stdin: input });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(input);
    });

    it('counts stdin with wc', async () => {
      const r = await run(page, 'wc', { mode, stdin: 'a b c\nd e\n' });
      expect(r.stdout.trim().split(/\s+/)).toEqual(['2', '5', '10']);
    });

    it('blocks the module on stdin until the caller writes (interactive)', async () => {
      const out = await page.evaluate(async (m) => {
        const p = await window.kernel.spawn('ask', { mode: m });
        const reader = p.stdout.getReader();
        const dec = new TextDecoder();
        let seen = '';
        const until = async (s: string) => {
          while (!seen.includes(s)) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`stdout ended before "${s}": ${seen}`);
            seen += dec.decode(value, { stream: true });
          }
        };
        const w = p.stdin.getWriter();
        await until('What is your name? ');
        // The module is now blocked in fd_read; the page is not.
        await new Promise((r) => setTimeout(r, 100));
        const stateWhileBlocked = window.kernel.processes().find((x) => x.pid === p.pid)?.state;
        await w.write(new TextEncoder().encode('Ada\n'));
        await until('Hello, Ada!');
        await until('Another? [y/n] ');
        await w.write(new TextEncoder().encode('n\n'));
        await w.close();
        const code = await p.exit;
        return { seen, code, stateWhileBlocked };
      }, mode);
      expect(out.stateWhileBlocked).toBe('running');
      expect(out.seen).toContain('Hello, Ada!');
      expect(out.code).toBe(0);
    });

    it('sees end of file when stdin closes', async () => {
      const r = await run(page, 'cat', { mode });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
    });

    it('polls stdin with a timeout (poll_oneoff on fd 0 and a clock)', async () => {
      const r = await run(page, 'stdin-poll', { mode, stdin: 'hello\n' });
      expect(r.stdout).toContain('poll ready');
      expect(r.stdout).toContain('got: hello');
      const idle = await page.evaluate(async (m) => {
        const p = await window.kernel.spawn('stdin-poll', { mode: m });
        const text = new Response(p.stdout).text();
        await new Promise((r) => setTimeout(r, 400));
        const w = p.stdin.getWriter();
        await w.write(new TextEncoder().encode('late\n'));
        await w.close();
        return text;
      }, mode);
      expect(idle).toContain('poll timeout');
    });
  });

  describe('files, clocks, sockets', () => {
    it('reads files seeded under a preopen and writes new ones', async () => {
      const r = await run(page, 'files', { mode, args: ['cat', '/data/a.txt'], preopens: ['/data'], files: { '/data/a.txt': 'alpha\n' } });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('alpha\n');
      const ls = await run(page, 'files', { mode, args: ['ls', '/'], preopens: ['/'], files: { '/x/y.txt': 'y', '/z.txt': 'z' } });
      expect(ls.stdout).toMatch(/x/);
      expect(ls.stdout).toMatch(/z\.txt/);
      const missing = await run(page, 'files', { mode, args: ['cat', '/data/nope'], preopens: ['/data'] });
      expect(missing.code).toBe(1);
      expect(missing.stderr.length).toBeGreaterThan(0);
    });

    it('sleeps in poll_oneoff without spinning', async () => {
      const r = await run(page, 'sleep', { mode, args: ['150'] });
      expect(r.code).toBe(0);
      const slept = Number(/slept (\d+)/.exec(r.stdout)?.[1]);
      expect(slept).toBeGreaterThanOrEqual(150);
    });

    it('answers socket calls with an errno instead of throwing', async () => {
      const r = await run(page, 'sock', { mode });
      expect(r.code).toBe(0);
      expect(r.reason).toBe('exited');
      for (const call of ['sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown']) {
        expect(r.stdout).toMatch(new RegExp(`${call}=([1-9]\\d*)`));
      }
    });
  });

  describe('containment', () => {
    it('ends a trapping module with a nonzero code and the reason crashed', async () => {
      const r = await run(page, 'trap', { mode });
      expect(r.stdout).toContain('about to trap');
      expect(r.code).toBe(134);
      expect(r.reason).toBe('crashed');
      expect(r.message).toMatch(/unreachable/i);
      expect((await run(page, 'hello', { mode })).code).toBe(0);
    });

    it('ends a module that runs out of memory at its cap, reason memory-exceeded', async () => {
      const r = await run(page, 'oom', { mode });
      expect(r.stderr).toMatch(/out of memory after \d+ MiB/);
      expect(r.code).toBe(137);
      expect(r.reason).toBe('memory-exceeded');
      expect((await run(page, 'hello', { mode })).code).toBe(0);
    });

    it('refuses a module whose initial memory is over the cap', async () => {
      const r = await run(page, 'bigmem', { mode });
      expect(r.code).toBe(137);
      expect(r.reason).toBe('memory-exceeded');
    });

    it('fails a module that is not a command, with a reason', async () => {
      const r = await run(page, 'reactor', { mode });
      expect(r.code).toBe(126);
      expect(r.reason).toBe('failed');
      expect(r.message).toMatch(/_start/);
    });

    // On the page nothing can interrupt a loop: modes.test.ts has what kill and the watchdog do there.
    it.skipIf(mode === 'inpage')('kills a spinning module while the page stays responsive', async () => {
      const out = await page.evaluate(async (m) => {
        const p = await window.kernel.spawn('spin', { mode: m });
        const reader = p.stdout.getReader();
        await reader.read(); // "spinning": it is in its loop now
        // The page keeps running timers while the module spins.
        // (a page it held would never get these ticks: a timeout).
        let ticks = 0;
        await new Promise<void>((ok) => {
          const timer = setInterval(() => {
            if (++ticks < 10) return;
            clearInterval(timer);
            ok();
          }, 10);
        });
        const spinning = window.kernel.processes().find((x) => x.pid === p.pid)?.state;
        await p.kill();
        const code = await p.exit;
        const row = window.kernel.processes().find((x) => x.pid === p.pid);
        // stdout ends once the process has: read to its end.
        let extra = '';
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          extra += new TextDecoder().decode(r.value);
        }
        return { ticks, spinning, code, reason: row?.reason, stdoutDone: true, extra };
      }, mode);
      expect([out.ticks, out.spinning]).toEqual([10, 'running']);
      expect(out.code).toBe(137);
      expect(out.reason).toBe('killed');
      expect(out.stdoutDone).toBe(true);
      // Output written before the kill may still be delivered; nothing is expected here.
      if (out.extra !== '') console.warn(`spin: unexpected output after its first line: ${JSON.stringify(out.extra)}`);
    });
  });
});
