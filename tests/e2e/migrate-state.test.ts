/**
 * What a migratable process carries besides its memory (ADR 0028), in real Chromium: its open
 * files in /tmp (descriptors, offsets, the tree, a file unlinked while open) across a
 * hibernation, moves worker -> iframe -> worker and a reload; its bus subscriptions across a
 * reload of the page while it is hibernated, no message lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { installWith, startBackground, waitOutput } from './kernel-helpers';

/** The failure code of a kernel verb run in the page on `pid`, or 'ok'. */
function codeOf(script: string, pid: number): Promise<string> {
  return page.evaluate(
    async ([src, p]) => {
      try {
        await (new Function('k', 'pid', `return (${src})(k, pid)`) as (k: unknown, pid: number) => Promise<unknown>)(window.kernel, p);
        return 'ok';
      } catch (e) {
        return (e as { code?: string }).code ?? String(e);
      }
    },
    [script, pid] as const,
  );
}

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'filekeep', migratable: true });
  }, moduleBytes('filekeep'));
  await installWith(page, 'bustool', 'all');
  await page.evaluate(() => window.kernel.setMigratable('bustool', true));
  await installWith(page, 'gfx-probe', 'all');
  await page.evaluate(() => window.kernel.setMigratable('gfx-probe', true));
  await installWith(page, 'plugin', 'all');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Starts a module with its stdin kept open (`window.__stdin[pid]`) and its output gathered (`window.__out[pid]`). */
function start(name: string, opts: { args?: string[]; mounts?: Record<string, 'home' | 'tmp'> }): Promise<number> {
  return startBackground(page, name, opts.args ?? [], { keepStdin: true, ...(opts.mounts !== undefined ? { mounts: opts.mounts } : {}) });
}

/** Writes a line to its stdin and waits for `answer` in its output. */
async function ask(pid: number, line: string, answer: string): Promise<string> {
  await page.evaluate(
    async ([p, l]) => {
      const w = window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> };
      await w.__stdin[p]?.write(new TextEncoder().encode(`${l}\n`));
    },
    [pid, line] as const,
  );
  return waitOutput(page, pid, answer);
}

function row(pid: number) {
  return page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p), pid);
}

describe('open files', () => {
  it('keeps descriptors, offsets and the /tmp tree across hibernation, moves and a reload', async () => {
    const pid = await start('filekeep', { mounts: { '/tmp': 'tmp' } });
    await waitOutput(page, pid, 'ready');
    await ask(pid, 'r', 'read one at 4\n');
    await ask(pid, 'w hello', 'wrote 6\n');
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    expect((await row(pid))?.state).toBe('hibernated');
    // Resumed by its stdin: the descriptor it reads through goes on from its offset.
    await ask(pid, 'r', 'read two at 8\n');
    await ask(pid, 's', 'log 6 dir a lines=yes\n');
    await page.evaluate((p) => window.kernel.setMode(p, 'iframe'), pid);
    expect((await row(pid))?.mode).toBe('iframe');
    await ask(pid, 'w world', 'wrote 6\n');
    await ask(pid, 'r', 'read three at 14\n');
    await ask(pid, 'u', 'unlinked 0\n');
    await page.evaluate((p) => window.kernel.setMode(p, 'worker'), pid);
    // Unlinked while open: the descriptor still reads it, as in POSIX.
    await ask(pid, 'r', 'read four at 19\n');
    await ask(pid, 's', 'log 12 dir a lines=no\n');
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    await page.reload();
    await waitForKernel(page);
    const out = await page.evaluate(async (p) => {
      const proc = await window.kernel.attach(p);
      const w = proc.stdin.getWriter();
      await w.write(new TextEncoder().encode('w again\ns\n'));
      await w.close();
      return new Response(proc.stdout).text();
    }, pid);
    expect(out).toBe('wrote 6\nlog 18 dir a lines=no\n');
  });
});

describe('bus subscriptions', () => {
  it('a hibernated subscriber keeps its subscription across a reload; a message after it resumes it, none lost', async () => {
    const pid = await start('bustool', { args: ['sub', 'test/reload', '3'] });
    await waitOutput(page, pid, 'ready');
    await page.evaluate(() => window.kernel.bus.publish('test/reload', 'one'));
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    expect((await row(pid))?.state).toBe('hibernated');
    await page.reload();
    await waitForKernel(page);
    expect((await row(pid))?.state).toBe('hibernated');
    const subs = await page.evaluate((p) => window.kernel.bus.stats().subscriptions.filter((s) => s.pid === p).map((s) => s.pattern), pid);
    expect(subs).toEqual(['test/reload']);
    const out = await page.evaluate(async (p) => {
      const proc = await window.kernel.attach(p);
      const text = new Response(proc.stdout).text();
      window.kernel.bus.publish('test/reload', 'two');
      window.kernel.bus.publish('test/reload', 'three');
      return { text: await text, code: await proc.exit };
    }, pid);
    expect(out.code).toBe(0);
    expect(out.text.split('\n').filter((l) => l.startsWith('test/reload: '))).toEqual(['test/reload: one', 'test/reload: two', 'test/reload: three']);
    expect(out.text).toContain('dropped 0');
  });
});

describe('parked in a present, and between calls', () => {
  it('a process presenting flat out is parked at its next present: moved, it goes on drawing (ADR 0034)', async () => {
    const pid = await start('gfx-probe', { args: ['flood', '64', '48'] });
    await page.waitForFunction((p) => window.kernel.gfx.windows().some((w) => w.pid === p), pid);
    await waitOutput(page, pid, 'frames ');
    await page.evaluate((p) => window.kernel.setMode(p, 'worker', { deadlineMs: 5_000 }), pid);
    await page.evaluate((p) => window.kernel.setMode(p, 'iframe', { deadlineMs: 5_000 }), pid);
    expect(await row(pid)).toMatchObject({ state: 'running', mode: 'iframe' });
    expect(await page.evaluate((p) => window.kernel.gfx.windows().filter((w) => w.pid === p).length, pid)).toBe(1);
    const frames = (await page.evaluate((p) => (window as unknown as { __out: Record<number, string> }).__out[p] ?? '', pid)).split('frames ').length;
    await page.waitForFunction(([p, n]) => ((window as unknown as { __out: Record<number, string> }).__out[p] ?? '').split('frames ').length > n, [pid, frames] as const);
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });

  it('a migratable service is hibernated between calls; a call for it resumes it, its state intact', async () => {
    await page.evaluate(() => window.kernel.setMigratable('plugin', true));
    expect(await page.evaluate(async () => new TextDecoder().decode(await window.kernel.call('plugin', 'append', 'x')))).toBe('x');
    const pid = await page.evaluate(() => window.kernel.processes().find((r) => r.name === 'plugin' && r.state === 'running')?.pid ?? -1);
    expect(pid).toBeGreaterThan(0);
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    expect((await row(pid))?.state).toBe('hibernated');
    expect(await page.evaluate(() => window.kernel.resources().hosts.worker.busyWorkers)).toBe(0);
    // The call resumes the same instance (same pid), which appended before it was parked.
    const out = await page.evaluate(async () => new TextDecoder().decode(await window.kernel.call('plugin', 'append', 'y')));
    expect(out).toBe('xy');
    expect((await row(pid))?.state).toBe('running');
    expect((await row(pid))?.incarnation).toBe(1);
    expect(await codeOf("(k, pid) => k.setMode(pid, 'iframe')", pid)).toBe('migrate/unsupported');
  });

  it('a process waiting in a service call parks once it is answered: the call made once, its answer kept (ADR 0036)', async () => {
    await installWith(page, 'callseq', 'all');
    await page.evaluate(() => window.kernel.setMigratable('callseq', true));
    for (const r of await page.evaluate(() => window.kernel.processes().filter((p) => p.name === 'plugin' && p.state !== 'exited'))) {
      await page.evaluate((p) => window.kernel.kill(p), r.pid);
    }
    const calls = (): Promise<number> => page.evaluate(() => window.kernel.serviceStats().find((s) => s.name === 'plugin')?.calls ?? 0);
    const before = await calls();
    // count (1), a call that computes a while, count (2), then a line on stdin, count (3).
    const pid = await start('callseq', { args: ['plugin', 'count', 'x', 'grind', '200000000', 'count', 'x', 'count', '-'] });
    await waitOutput(page, pid, '1\n');
    // Asked to move while it waits for `grind`: it parks when the answer has come, before it prints it.
    const atMove = await page.evaluate(async (p) => {
      await window.kernel.setMode(p, 'worker', { deadlineMs: 60_000 });
      return (window as unknown as { __out: Record<number, string> }).__out[p] ?? '';
    }, pid);
    expect(atMove).toBe('1\n');
    expect(await row(pid)).toMatchObject({ state: 'running', mode: 'worker' });
    await waitOutput(page, pid, 'done\n2\n');
    await page.evaluate((p) => (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[p]?.write(new TextEncoder().encode('go\n')), pid);
    expect(await waitOutput(page, pid, '3\n')).toBe('1\ndone\n2\n3\n');
    // Four calls reached the plugin: grind was not made again by the resumed process.
    expect((await calls()) - before).toBe(4);
  });

  it('a hibernated service instance survives a reload: listed, and the next call resumes it with its state (ADR 0036)', async () => {
    await page.evaluate(() => window.kernel.setMigratable('plugin', true));
    // A fresh instance (the previous test's may be running): ended first.
    for (const r of await page.evaluate(() => window.kernel.processes().filter((p) => p.name === 'plugin' && p.state !== 'exited'))) {
      await page.evaluate((p) => window.kernel.kill(p), r.pid);
    }
    expect(await page.evaluate(async () => new TextDecoder().decode(await window.kernel.call('plugin', 'append', 'a')))).toBe('a');
    expect(await page.evaluate(async () => new TextDecoder().decode(await window.kernel.call('plugin', 'append', 'b')))).toBe('ab');
    const pid = await page.evaluate(() => window.kernel.processes().find((r) => r.name === 'plugin' && r.state === 'running')?.pid ?? -1);
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    await page.reload();
    await waitForKernel(page);
    expect((await row(pid))?.state).toBe('hibernated');
    const out = await page.evaluate(async () => new TextDecoder().decode(await window.kernel.call('plugin', 'append', 'c')));
    expect(out).toBe('abc');
    expect(await row(pid)).toMatchObject({ state: 'running', name: 'plugin' });
    expect(await page.evaluate(() => window.kernel.processes().filter((r) => r.name === 'plugin' && r.state !== 'exited').length)).toBe(1);
  });
});
