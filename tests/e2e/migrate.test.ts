/**
 * Migratable modules, hibernation and moves through `window.kernel`, in real Chromium: the
 * Asyncify transform at install, an interactive C program parked between lines of input and
 * resumed (on request, by its stdin, after a reload of the page, in a fresh worker) with its
 * state intact; the refusals with their codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { install, installWith, startBackground, waitOutput } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'cat', 'spin');
  await installWith(page, 'bustool', 'all');
  await page.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'accum', migratable: true });
  }, moduleBytes('accum'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Writes a line to a background process's stdin (its writer kept by startBackground). */
function send(pid: number, line: string): Promise<void> {
  return page.evaluate(
    async ([p, l]) => {
      const w = window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> };
      await w.__stdin[p]?.write(new TextEncoder().encode(l));
    },
    [pid, line] as const,
  );
}

function state(pid: number): Promise<string | undefined> {
  return page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p)?.state, pid);
}

function waitState(pid: number, s: string): Promise<unknown> {
  return page.waitForFunction(([p, want]) => window.kernel.processes().find((r) => r.pid === p)?.state === want, [pid, s] as const);
}

/** The failure code of a kernel verb run in the page, or 'ok'. */
function codeOf(script: string, arg: number): Promise<string> {
  return page.evaluate(
    async ([src, a]) => {
      try {
        await (new Function('k', 'a', `return (${src})(k, a)`) as (k: unknown, a: number) => Promise<unknown>)(window.kernel, a);
        return 'ok';
      } catch (e) {
        return (e as { code?: string }).code ?? String(e);
      }
    },
    [script, arg] as const,
  );
}

describe('migratable modules', () => {
  it('stores instrumented bytes beside the original and says so in the record', async () => {
    const info = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'accum'));
    expect(info?.migratable?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info?.migratable?.sha256).not.toBe(info?.sha256);
    expect(info?.migratable?.size ?? 0).toBeGreaterThan(info?.size ?? 0);
  });

  it('refuses to hibernate a process whose module is not migratable (migrate/not-migratable)', async () => {
    const pid = await startBackground(page, 'cat', [], { keepStdin: true });
    await waitState(pid, 'running');
    expect(await codeOf('(k, pid) => k.hibernate(pid)', pid)).toBe('migrate/not-migratable');
    expect(await state(pid)).toBe('running');
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });

  it('refuses a transform it cannot do (registry/not-migratable)', async () => {
    const code = await page.evaluate(async () => {
      // A module without memory or _start: nothing to capture.
      const empty = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      try {
        await window.kernel.install(empty, { name: 'empty-mig', migratable: true });
        return 'ok';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    expect(code).toBe('registry/not-migratable');
  });

  it('refuses a threaded module (shared memory): its other threads could not be captured', async () => {
    const refusal = await page.evaluate(async () => {
      // (module (memory (export "memory") 1 1 shared) (func (export "_start")))
      const threaded = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 7, 19, 2, 6, 109, 101, 109, 111, 114, 121, 2, 0, 6, 95, 115, 116, 97, 114, 116, 0, 0, 10, 4, 1, 2, 0, 11]);
      try {
        await window.kernel.install(threaded, { name: 'threaded-mig', migratable: true });
        return { code: 'ok', message: '' };
      } catch (e) {
        const x = e as { code?: string; message?: string };
        return { code: x.code, message: x.message ?? '' };
      }
    });
    expect(refusal.code).toBe('registry/not-migratable');
    expect(refusal.message).toContain('threads');
    // As the README says: the module stays installed, not migratable.
    const kept = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'threaded-mig'));
    expect(kept).toBeDefined();
    expect(kept?.migratable).toBeUndefined();
  });
});

describe('hibernate and resume', () => {
  it('parks between lines, releases its worker, and carries on when written to', async () => {
    const pid = await startBackground(page, 'accum', [], { keepStdin: true });
    await waitOutput(page, pid, 'ready');
    await send(pid, '5\n');
    await waitOutput(page, pid, 'n=1 total=5 ');
    await send(pid, '7\n');
    await waitOutput(page, pid, 'n=2 total=12 ');
    const states: string[] = await page.evaluate(async (p) => {
      const seen: string[] = [];
      const on = (e: Event) => {
        const d = (e as CustomEvent<{ pid: number; state: string }>).detail;
        if (d.pid === p) seen.push(d.state);
      };
      window.kernel.addEventListener('statechange', on);
      await window.kernel.hibernate(p);
      window.kernel.removeEventListener('statechange', on);
      return seen;
    }, pid);
    expect(states).toEqual(['hibernating', 'hibernated']);
    expect(await page.evaluate(() => window.kernel.resources().hosts.worker.busyWorkers)).toBe(0);
    await send(pid, '30\n');
    const out = await waitOutput(page, pid, 'n=3 total=42 ');
    expect(out).toMatch(/n=3 total=42 check=\d+ clock=ok/);
    expect(await state(pid)).toBe('running');
    // Once more, resumed by the verb this time.
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    expect(await state(pid)).toBe('hibernated');
    await page.evaluate((p) => window.kernel.resume(p), pid);
    expect(await state(pid)).toBe('running');
    await send(pid, '-2\n');
    await waitOutput(page, pid, 'n=4 total=40 ');
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });

  it('moves a process to a fresh worker between lines (setMode)', async () => {
    const pid = await startBackground(page, 'accum', [], { keepStdin: true });
    await waitOutput(page, pid, 'ready');
    await send(pid, '1\n');
    await waitOutput(page, pid, 'n=1 total=1 ');
    await page.evaluate((p) => window.kernel.setMode(p, 'worker'), pid);
    expect(await state(pid)).toBe('running');
    await send(pid, '2\n');
    await waitOutput(page, pid, 'n=2 total=3 ');
    expect(await codeOf("(k, pid) => k.setMode(pid, 'inpage')", pid)).toBe('migrate/unsupported');
    expect(await codeOf('(k, pid) => k.resume(pid)', pid)).toBe('migrate/bad-state');
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });

  it('moves worker -> iframe -> worker between lines, output unbroken', async () => {
    const pid = await startBackground(page, 'accum', [], { keepStdin: true });
    await waitOutput(page, pid, 'ready');
    await send(pid, '4\n');
    await waitOutput(page, pid, 'n=1 total=4 ');
    await page.evaluate((p) => window.kernel.setMode(p, 'iframe'), pid);
    expect(await page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p)?.mode, pid)).toBe('iframe');
    await send(pid, '5\n');
    await waitOutput(page, pid, 'n=2 total=9 ');
    // Written while it moves: queued in its ring, read once it runs again.
    await page.evaluate(async (p) => {
      const moving = window.kernel.setMode(p, 'worker');
      const w = window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> };
      await w.__stdin[p]?.write(new TextEncoder().encode('6\n'));
      await moving;
    }, pid);
    expect(await page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p)?.mode, pid)).toBe('worker');
    const out = await waitOutput(page, pid, 'n=3 total=15 ');
    expect(out.match(/^n=\d+ .*$/gm)).toEqual([
      expect.stringMatching(/^n=1 total=4 check=4 clock=ok$/),
      expect.stringMatching(/^n=2 total=9 check=14 clock=ok$/),
      expect.stringMatching(/^n=3 total=15 check=32 clock=ok$/),
    ]);
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });

  it('refuses a process busy past the deadline (migrate/busy), or restarts it when asked', async () => {
    await page.evaluate(() => window.kernel.setMigratable('spin', true));
    const pid = await startBackground(page, 'spin', []);
    await waitOutput(page, pid, 'spinning');
    expect(await codeOf('(k, pid) => k.hibernate(pid, { deadlineMs: 200 })', pid)).toBe('migrate/busy');
    expect(await state(pid)).toBe('running');
    await page.evaluate((p) => window.kernel.hibernate(p, { deadlineMs: 200, orRestart: true }), pid);
    await waitState(pid, 'running');
    expect(await page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p)?.incarnation, pid)).toBe(2);
    await page.evaluate((p) => window.kernel.kill(p), pid);
    await page.evaluate(() => window.kernel.setMigratable('spin', false));
    const info = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'spin'));
    expect(info?.migratable).toBeUndefined();
  });

  it('parks a bus subscriber in its receive; a message published meanwhile wakes it, none lost', async () => {
    await page.evaluate(() => window.kernel.setMigratable('bustool', true));
    const pid = await startBackground(page, 'bustool', ['sub', 'test/mig', '3']);
    await waitOutput(page, pid, 'ready');
    // Its output is not a terminal: it shows at its exit. A message queued is taken before it parks.
    await page.evaluate(() => window.kernel.bus.publish('test/mig', 'one'));
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    expect(await state(pid)).toBe('hibernated');
    await page.evaluate(() => window.kernel.bus.publish('test/mig', 'two'));
    await waitState(pid, 'running');
    // Moving it out of the worker mode would lose its inbox mirrors: refused.
    expect(await codeOf("(k, pid) => k.setMode(pid, 'iframe')", pid)).toBe('migrate/unsupported');
    await page.evaluate((p) => window.kernel.setMode(p, 'worker'), pid);
    await page.evaluate(() => window.kernel.bus.publish('test/mig', 'three'));
    const out = await waitOutput(page, pid, 'dropped 0');
    expect(out.split('\n').filter((l) => l.startsWith('test/mig: '))).toEqual(['test/mig: one', 'test/mig: two', 'test/mig: three']);
  });

  it('parks a process sleeping in poll_oneoff; resumed, it sleeps its full time again', async () => {
    await install(page, 'sleep');
    await page.evaluate(() => window.kernel.setMigratable('sleep', true));
    const pid = await startBackground(page, 'sleep', ['1500']);
    await waitState(pid, 'running');
    await page.evaluate((p) => window.kernel.hibernate(p, { deadlineMs: 1000 }), pid);
    expect(await state(pid)).toBe('hibernated');
    await page.evaluate((p) => window.kernel.resume(p), pid);
    const out = await waitOutput(page, pid, 'slept');
    const slept = Number(/slept (\d+) ms/.exec(out)?.[1]);
    expect(slept).toBeGreaterThanOrEqual(1500);
  });

  it('keeps live memories under a budget by hibernating the least recently active; each answers in turn', async () => {
    const base = await page.evaluate(() => window.kernel.memorySlots().page.used);
    await page.evaluate((max) => window.kernel.setAutoHibernate({ maxLive: max }), base + 2);
    const pids: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const pid = await startBackground(page, 'accum', [], { keepStdin: true });
        await waitOutput(page, pid, 'ready');
        pids.push(pid);
      }
      const states = await page.evaluate((ps) => ps.map((p) => window.kernel.processes().find((r) => r.pid === p)?.state), pids);
      expect(states.filter((s) => s === 'running').length).toBeLessThanOrEqual(2);
      expect(states.slice(0, 3)).toEqual(['hibernated', 'hibernated', 'hibernated']);
      // Each one, written to, resumes (another is hibernated to make room) and answers.
      for (const [i, pid] of pids.entries()) {
        await send(pid, `${i + 1}\n`);
        await waitOutput(page, pid, `n=1 total=${i + 1} `);
      }
      expect(await page.evaluate(() => window.kernel.memorySlots().page.used)).toBeLessThanOrEqual(base + 2);
    } finally {
      await page.evaluate(() => window.kernel.setAutoHibernate(null));
      for (const pid of pids) await page.evaluate((p) => window.kernel.kill(p), pid);
    }
  });

  it('survives a reload: listed hibernated, attached, continued with its state', async () => {
    const pid = await startBackground(page, 'accum', [], { keepStdin: true });
    await waitOutput(page, pid, 'ready');
    await send(pid, '100\n');
    await waitOutput(page, pid, 'n=1 total=100 ');
    await send(pid, '23\n');
    const before = await waitOutput(page, pid, 'n=2 total=123 ');
    const check = /n=2 total=123 check=(\d+)/.exec(before)?.[1];
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    await page.reload();
    await waitForKernel(page);
    const row = await page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p), pid);
    expect(row?.state).toBe('hibernated');
    expect(row?.name).toBe('accum');
    const out = await page.evaluate(async (p) => {
      const proc = await window.kernel.attach(p);
      const w = proc.stdin.getWriter();
      await w.write(new TextEncoder().encode('7\n'));
      await w.close();
      const [text, code] = await Promise.all([new Response(proc.stdout).text(), proc.exit]);
      return { text, code };
    }, pid);
    expect(out.code).toBe(0);
    expect(out.text).toMatch(/n=3 total=130 check=\d+ clock=ok/);
    expect(out.text).toContain('bye n=3 total=130');
    // The checksum of its heap went on from where it was: 100*1 + 23*2 + 7*3.
    expect(check).toBe('146');
    expect(out.text).toContain('check=167');
    // Gone for good: nothing stored any more.
    expect(await codeOf('(k, pid) => k.attach(pid)', pid)).toBe('kernel/unknown-process');
  });

  it('a hibernated process restarted afresh is not brought back by a reload', async () => {
    const pid = await startBackground(page, 'accum', [], { keepStdin: true });
    await waitOutput(page, pid, 'ready');
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    await page.evaluate((p) => window.kernel.restart(p), pid);
    await waitState(pid, 'running');
    // Still running as the page goes: a reload ends it; its old snapshot must not come back.
    await page.reload();
    await waitForKernel(page);
    expect(await page.evaluate(() => window.kernel.processes().filter((r) => r.state === 'hibernated').length)).toBe(0);
  });
});
