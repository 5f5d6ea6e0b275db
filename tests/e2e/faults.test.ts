/**
 * Faults inside a process (issue 14): a worker that closes itself mid-call, a flood of malformed
 * messages and an oversized one, a trap while handling input or a bus message, a process killed
 * while it holds pipes, a window, a bus subscription and a kernel call. For each, the suite proves
 * that the fault is contained (a `cat` started before it still echoes, a new spawn runs), that
 * nothing is left half-done (no process in `starting`, the window, subscription and pipes freed),
 * that the page still runs its timers and frames, and that the process's row says what happened.
 * Storage and tab faults are in faults-tabs.test.ts.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, installWith } from './kernel-helpers';
import { HEALTHY, health, row, startBystander, waitEnded } from './fault-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'cat', 'hello', 'seq', 'wc');
  await installWith(page, 'faultprobe', 'all');
  await installWith(page, 'holder', 'all');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  await startBystander(page);
});

/** Spawns `faultprobe` with `args` (in a worker unless `mode` says); returns its pid once it has printed its first line. */
function probe(args: string[], mode: 'worker' | 'iframe' = 'worker'): Promise<number> {
  return page.evaluate(async ([a, m]) => {
    const p = await window.kernel.spawn('faultprobe', { args: a, mode: m });
    await p.stdin.close();
    const reader = p.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    return p.pid;
  }, [args, mode] as const);
}

/** The windows and bus subscriptions `pid` holds. */
function holdings(pid: number): Promise<{ windows: number; subscriptions: number }> {
  return page.evaluate((p) => ({
    windows: window.kernel.gfx.windows().filter((w) => w.pid === p).length,
    subscriptions: window.kernel.bus.stats().subscriptions.filter((s) => s.pid === p).length,
  }), pid);
}

it.each(['worker', 'iframe'] as const)('survives a worker that closes itself in the middle of a kernel call: crashed with ipc/closed (%s)', async (mode) => {
  const pid = await probe(['close-mid-call'], mode);
  await waitEnded(page, pid);
  expect(await row(page, pid)).toEqual({ state: 'exited', exitCode: 134, reason: 'crashed', message: 'ipc/closed: the module closed its worker' });
  // The child its call asked for is a process of its own: it ran to its end, nothing hangs on it.
  const children = await page.evaluate((p) => window.kernel.processes().filter((x) => x.pid > p && x.name === 'hello').map((x) => x.pid), pid);
  for (const c of children) await waitEnded(page, c);
  for (const c of children) expect(await row(page, c)).toMatchObject({ state: 'exited', exitCode: 0 });
  expect(await health(page)).toEqual(HEALTHY);
});

it('survives a worker throwing from a timer callback, outside any call: crashed with the error', async () => {
  const pid = await probe(['throw-later']);
  await waitEnded(page, pid);
  expect(await row(page, pid)).toEqual({ state: 'exited', exitCode: 134, reason: 'crashed', message: 'Uncaught Error: thrown in a timer callback' });
  expect(await health(page)).toEqual(HEALTHY);
});

it('survives a flood of 100,000 malformed messages: the first ends the process, the rest reach nothing', async () => {
  const pid = await probe(['flood', '100000']);
  await waitEnded(page, pid);
  const r = await row(page, pid);
  expect([r.exitCode, r.reason]).toEqual([134, 'crashed']);
  expect(r.message).toBe('the worker sent a malformed message: malformed worker message: not an object');
  expect(await health(page)).toEqual(HEALTHY);
});

it('survives an oversized (64 MiB) malformed message: crashed with the reason, the page unharmed', async () => {
  const pid = await probe(['oversized', '64']);
  await waitEnded(page, pid);
  const r = await row(page, pid);
  expect([r.exitCode, r.reason]).toEqual([134, 'crashed']);
  expect(r.message).toBe('the worker sent a malformed message: malformed worker message: bad call fields');
  expect(await health(page)).toEqual(HEALTHY);
});

it('survives a trap while handling a key in its window or a bus message: crashed, window closed, subscription dropped', async () => {
  const pids = await page.evaluate(async () => {
    const k = window.kernel;
    const start = async (mode: string) => {
      const p = await k.spawn('holder', { args: [mode, `test/${mode}`] });
      await p.stdin.close();
      const reader = p.stderr.getReader();
      let text = '';
      while (!text.includes('holding\n')) text += new TextDecoder().decode((await reader.read()).value);
      reader.releaseLock();
      return p.pid;
    };
    return { input: await start('trap-input'), bus: await start('trap-bus') };
  });
  for (const pid of [pids.input, pids.bus]) expect(await holdings(pid)).toEqual({ windows: 1, subscriptions: 1 });
  await page.evaluate(({ input }) => {
    const w = window.kernel.gfx.windows().find((x) => x.pid === input);
    if (w === undefined) throw new Error('no window');
    window.kernel.gfx.input(w.id, { type: 1, x: 0, y: 0, button: 0, key: 97, mods: 0 }); // a key down: 'a'
    window.kernel.bus.publish('test/trap-bus', 'boom');
  }, pids);
  for (const pid of [pids.input, pids.bus]) {
    await waitEnded(page, pid);
    const r = await row(page, pid);
    expect([r.exitCode, r.reason]).toEqual([134, 'crashed']);
    expect(r.message).toMatch(/unreachable/);
    expect(await holdings(pid)).toEqual({ windows: 0, subscriptions: 0 });
  }
  expect(await health(page)).toEqual(HEALTHY);
});

it('survives a kill while it holds two pipes, a window, a bus subscription and a kernel call: all of it freed', async () => {
  // seq | holder hold | wc: holder never reads, so seq blocks on the full pipe into it; holder
  // loops on a kernel call (webmk_kernel_ps) and presents. Kernel calls are the only calls between
  // a module and the system today (service calls between modules do not exist yet).
  const pids = await page.evaluate(async () => {
    const k = window.kernel;
    const [seq, holder, wc] = await k.pipeline([{ name: 'seq', args: ['1', '10000000'] }, { name: 'holder', args: ['hold', 'test/held'] }, { name: 'wc' }]);
    if (seq === undefined || holder === undefined || wc === undefined) throw new Error('three stages');
    const reader = holder.stderr.getReader();
    let text = '';
    while (!text.includes('holding\n')) text += new TextDecoder().decode((await reader.read()).value);
    reader.releaseLock();
    const w = window as unknown as { __ends: Record<number, Promise<[number, string]>> };
    w.__ends = {};
    w.__ends[seq.pid] = Promise.all([seq.exit, new Response(seq.stdout).text()]);
    w.__ends[wc.pid] = Promise.all([wc.exit, new Response(wc.stdout).text()]);
    return { seq: seq.pid, holder: holder.pid, wc: wc.pid };
  });
  expect(await holdings(pids.holder)).toEqual({ windows: 1, subscriptions: 1 });
  await page.evaluate((p) => window.kernel.kill(p), pids.holder);
  const ends = await page.evaluate(async ({ seq, wc }) => {
    const w = window as unknown as { __ends: Record<number, Promise<[number, string]>> };
    return { seq: await w.__ends[seq], wc: await w.__ends[wc] };
  }, pids);
  expect(await row(page, pids.holder)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'killed' });
  // The writer into it got EPIPE (seq ends 1, as head's writer does), the reader after it end of
  // file: it counted nothing, as holder wrote nothing.
  expect(ends.seq[0]).toBe(1);
  expect(ends.wc).toEqual([0, expect.stringMatching(/^\s*0\s+0\s+0\s*$/)]);
  expect(await holdings(pids.holder)).toEqual({ windows: 0, subscriptions: 0 });
  // Nothing published on its topic is queued anywhere any more.
  await page.evaluate(() => window.kernel.bus.publish('test/held', 'after'));
  expect(await page.evaluate(() => window.kernel.bus.stats().subscriptions.filter((s) => s.pattern === 'test/held').length)).toBe(0);
  expect(await health(page)).toEqual(HEALTHY);
});
