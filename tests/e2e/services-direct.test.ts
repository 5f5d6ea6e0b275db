/**
 * Direct service calls (ADR 0027) in real Chromium: once the kernel has routed and allowed a
 * module's call into a service, the module's next calls go worker to worker through a call slot,
 * and everything the kernel guaranteed still holds: a loop through direct paths is refused at
 * once, a deadline ends and restarts the instance, a service killed mid-call fails the call, and
 * whatever the direct path cannot hold goes through the kernel again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { installWith, run, startBackground, waitExit, waitOutput } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

/** Calls `module.fn(input)` from the page; the output as text, or the error's code. */
function call(module: string, fn: string, input: string): Promise<string> {
  return page.evaluate(
    async ([m, f, i]) => {
      try {
        return new TextDecoder().decode(await window.kernel.call(m, f, i));
      } catch (e) {
        return (e as { code: string }).code;
      }
    },
    [module, fn, input] as const,
  );
}

/** The service's stats row. */
function stats(name: string): Promise<{ pid: number; calls: number; errors: number; direct: number; busy: boolean } | undefined> {
  return page.evaluate((n) => window.kernel.serviceStats().find((s) => s.name === n), name);
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await installWith(page, 'plugin', 'all');
  await installWith(page, 'plugin-b', 'all');
  await installWith(page, 'callseq', 'all');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('direct service calls', () => {
  it('a module calling a service again goes worker to worker: the first call through the kernel, the next ones direct', async () => {
    const r = await run(page, 'callseq', { args: ['plugin', 'echo', 'a', 'upper', 'b', 'nothing', 'x', 'echo', 'c'] });
    expect(r.stdout).toBe('a\nB\nerrno 52\nc\n');
    const s = await stats('plugin');
    expect(s?.direct).toBe(3);
    expect(s?.errors).toBe(1);
  });

  it('a linked import of a module\'s export goes direct from its second call', async () => {
    await installWith(page, 'importer', 'all');
    const before = (await stats('plugin'))?.direct ?? 0;
    expect((await run(page, 'importer', { args: ['twice', 'shout'] })).stdout).toBe('SHOUT\nSHOUT\n');
    expect((await stats('plugin'))?.direct).toBe(before + 1);
  });

  it('refuses the loop A -> B -> A through direct paths at once (EDEADLK), and both stay usable', async () => {
    // Each relay once through the kernel (which grants the path), then once more: direct.
    for (let i = 0; i < 2; i++) {
      expect(await call('plugin', 'relay', 'plugin-b echo x')).toBe('x');
      expect(await call('plugin-b', 'relay', 'plugin echo y')).toBe('y');
    }
    const b0 = (await stats('plugin-b'))?.direct ?? 0;
    const a0 = (await stats('plugin'))?.direct ?? 0;
    expect(b0).toBeGreaterThan(0);
    // plugin relays to plugin-b (direct), which relays back to plugin (direct): refused, EDEADLK (16).
    // A deadlock would have ended at a deadline instead: ETIMEDOUT (73), or kernel/timeout here.
    expect(await call('plugin', 'relay', 'plugin-b relay plugin echo z')).toBe('errno 16');
    expect((await stats('plugin-b'))?.direct).toBe(b0 + 1);
    // The refused leg never reached plugin: no call counted there.
    expect((await stats('plugin'))?.direct).toBe(a0);
    expect(await call('plugin', 'echo', 'a')).toBe('a');
    expect(await call('plugin-b', 'echo', 'b')).toBe('b');
    expect(await call('plugin', 'relay', 'plugin-b upper w')).toBe('W');
  });

  it('a service killed in the middle of a direct call fails that call (EIO) at once; the next call meets a fresh instance', async () => {
    const before = await stats('plugin');
    const pid = await startBackground(page, 'callseq', ['plugin', 'echo', 'a', 'spin', 'x', 'echo', 'c']);
    await waitOutput(page, pid, 'a\n');
    // The spin runs in the plugin's worker, reached directly: the kernel saw no call of it.
    await page.waitForFunction(() => window.kernel.serviceStats().some((s) => s.name === 'plugin' && s.busy));
    expect((await stats('plugin'))?.queued).toBe(0);
    await page.evaluate((p) => window.kernel.kill(p), before?.pid ?? -1);
    expect(await waitExit(page, pid)).toBe(0);
    expect(await waitOutput(page, pid, 'c\n')).toBe('a\nerrno 29\nc\n');
    const after = await stats('plugin');
    expect(after?.pid).not.toBe(before?.pid);
  });

  it('a direct call past its deadline fails ETIMEDOUT; the instance is ended and restarted fresh under its pid', async () => {
    const row = () => page.evaluate(() => window.kernel.processes().find((p) => p.name === 'plugin-b' && p.state !== 'exited'));
    const was = await row();
    // plugin-b's manifest gives calls 2 s. count counts the calls its instance served.
    const r = await run(page, 'callseq', { args: ['plugin-b', 'count', 'x', 'count', 'x', 'spin', 'x', 'count', 'x'] });
    expect(r.stdout).toBe('1\n2\nerrno 73\n1\n');
    const now = await row();
    expect(now?.pid).toBe(was?.pid);
    expect(now?.incarnation).toBeGreaterThan(was?.incarnation ?? 0);
  });

  it('runs direct calls and the kernel\'s calls one at a time, none lost, however they interleave', async () => {
    const tokens = (p: string) => Array.from({ length: 6 }, (_, i) => `${p}${i};`);
    const args = (p: string) => ['plugin', ...tokens(p).flatMap((t) => ['append', t])];
    const pids = [await startBackground(page, 'callseq', args('x')), await startBackground(page, 'callseq', args('y'))];
    const fromPage = await Promise.all(tokens('p').map((t) => call('plugin', 'append', t)));
    expect(fromPage.every((t) => t.endsWith(';'))).toBe(true);
    for (const p of pids) expect(await waitExit(page, p)).toBe(0);
    const log = await call('plugin', 'append', '');
    const seen = log.split(';').filter((t) => t !== '');
    expect(seen.sort()).toEqual([...tokens('x'), ...tokens('y'), ...tokens('p')].map((t) => t.slice(0, -1)).sort());
  });

  it('an update (other bytes installed) sends the next call back through the kernel, which moves the instance onto them', async () => {
    const write = (pid: number, text: string) =>
      page.evaluate(([p, t]) => (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[p]?.write(new TextEncoder().encode(t)), [pid, text] as const);
    const sha = () => page.evaluate(() => window.kernel.processes().find((p) => p.name === 'plugin' && p.state !== 'exited')?.sha256);
    const pid = await startBackground(page, 'callseq', ['plugin', 'echo', 'a', 'echo', '-', 'echo', '-'], { keepStdin: true });
    await waitOutput(page, pid, 'a\n');
    const direct = (await stats('plugin'))?.direct ?? 0;
    await write(pid, 'b\n');
    await waitOutput(page, pid, 'b\n');
    expect((await stats('plugin'))?.direct).toBe(direct + 1);
    const was = await sha();
    // plugin-b's bytes under the name plugin: an update of the running service.
    await page.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'plugin', grant: 'all' })), moduleBytes('plugin-b'));
    await write(pid, 'c\n');
    expect(await waitExit(page, pid)).toBe(0);
    expect(await waitOutput(page, pid, 'c\n')).toBe('a\nb\nc\n');
    expect((await stats('plugin'))?.direct).toBe(direct + 1);
    await page.waitForFunction((old) => window.kernel.processes().some((p) => p.name === 'plugin' && p.state === 'running' && p.sha256 !== old), was);
  });
});
