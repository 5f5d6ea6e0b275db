/**
 * Direct service calls (ADR 0027) in real Chromium: once the kernel has routed and allowed a
 * module's call into a service, the module's next calls go worker to worker through a call slot,
 * and everything the kernel guaranteed still holds: a loop through direct paths is refused at
 * once, a deadline ends and restarts the instance, a service killed mid-call fails the call, and
 * whatever the direct path cannot hold goes through the kernel again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
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
});
