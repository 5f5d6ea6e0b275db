/**
 * The address-space wall, in real Chromium: one renderer holds about 125 wasm memories
 * (FACTS.md). Parked `cat`s fill the page's renderer until the browser refuses a memory; the
 * kernel reports that as its own reason (not the module's memory limit), learns the limit,
 * refuses the next spawn at once with `kernel/no-memory-slot`, leaves nothing in `starting`,
 * and frees the slot of a process that ends.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'cat');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('meets the wall with its own reason, then refuses at once, and a process that ends frees a slot', async () => {
  const r = await page.evaluate(async () => {
    const k = window.kernel;
    const states = new Map<number, string[]>();
    k.addEventListener('statechange', (e) => {
      const d = (e as CustomEvent<{ pid: number; state: string }>).detail;
      states.set(d.pid, [...(states.get(d.pid) ?? []), d.state]);
    });
    /** Spawns a parked cat and settles once it runs or has ended. */
    const start = async (): Promise<{ pid: number; state: string }> => {
      const p = await k.spawn('cat', {});
      const row = () => k.processes().find((x) => x.pid === p.pid);
      if (row()?.state === 'starting') {
        await new Promise<void>((ok) => {
          const on = (e: Event) => {
            const d = (e as CustomEvent<{ pid: number; state: string }>).detail;
            if (d.pid === p.pid && d.state !== 'starting') {
              k.removeEventListener('statechange', on);
              ok();
            }
          };
          k.addEventListener('statechange', on);
          if (row()?.state !== 'starting') {
            k.removeEventListener('statechange', on);
            ok();
          }
        });
      }
      if (row()?.state === 'exited') await p.exit;
      return { pid: p.pid, state: row()?.state ?? 'gone' };
    };
    const running: number[] = [];
    let wall: { reason?: string; message?: string; code?: number; states?: string[] } | undefined;
    for (let i = 0; i < 300 && wall === undefined; i++) {
      const s = await start();
      if (s.state === 'running') running.push(s.pid);
      else {
        const row = k.processes().find((x) => x.pid === s.pid);
        wall = { reason: row?.reason, message: row?.message, code: row?.exitCode, states: states.get(s.pid) ?? [] };
      }
    }
    const atWall = k.memorySlots();
    const stuck = k.processes().filter((x) => x.state === 'starting').length;
    const memoryExceeded = k.processes().filter((x) => x.reason === 'memory-exceeded').length;
    const t0 = performance.now();
    const refused = await k.spawn('cat', {}).then(
      () => ({ code: 'none', message: '', ms: 0 }),
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message, ms: performance.now() - t0 }),
    );
    // End five; a new spawn then gets a slot (the browser may release the old memories a little later).
    for (const pid of running.splice(0, 5)) await k.kill(pid);
    const afterKill = k.memorySlots().page.used;
    let again = 'none';
    let tries = 0;
    while (again !== 'running' && tries < 50) {
      tries += 1;
      const s = await start();
      again = s.state;
      if (s.state === 'running') running.push(s.pid);
    }
    for (const pid of running) await k.kill(pid);
    return { count: running.length, wall, atWall, stuck, memoryExceeded, refused, afterKill, again, end: k.memorySlots() };
  });
  // About 125 here; the exact count belongs to the browser and the machine.
  expect(r.wall).toBeDefined();
  expect(r.wall?.reason).toBe('no-memory-slot');
  expect(r.wall?.code).toBe(126);
  // It never ran: no `running` between `starting` and `exited`.
  expect(r.wall?.states).toEqual(['starting', 'exited']);
  expect(r.wall?.message).toMatch(/observed at \d+.*ending or hibernating a process frees one/);
  expect(r.atWall.page.limit).toBeGreaterThan(10);
  expect(r.atWall.page.used).toBe(r.atWall.page.limit);
  expect(r.atWall.frames.used).toBe(0);
  expect(r.stuck).toBe(0);
  expect(r.memoryExceeded).toBe(0);
  expect(r.refused.code).toBe('kernel/no-memory-slot');
  expect(r.refused.message).toContain(`observed at ${r.atWall.page.limit}`);
  expect(r.afterKill).toBe((r.atWall.page.limit ?? 0) - 5);
  expect(r.again).toBe('running');
  expect(r.end.page.used).toBe(0);
});

it('many spawns at once past the wall: each runs or is refused with the wall\'s code or reason, none stays starting', async () => {
  // A tab of its own: a kernel that has not met the wall yet, meeting it with many starting at once.
  const tab = await openApp(browser.context, server.url);
  await install(tab, 'cat');
  const r = await tab.evaluate(async () => {
    const k = window.kernel;
    const settled = await Promise.allSettled(Array.from({ length: 150 }, () => k.spawn('cat', {})));
    const procs = settled.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
    const rejected = settled.flatMap((x) => (x.status === 'rejected' ? [(x.reason as { code: string }).code] : []));
    // Each process either runs or has ended; wait for whichever comes first.
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((ok) => {
            const done = () => k.processes().find((x) => x.pid === p.pid)?.state !== 'starting';
            if (done()) return ok();
            const on = () => {
              if (!done()) return;
              k.removeEventListener('statechange', on);
              ok();
            };
            k.addEventListener('statechange', on);
          }),
      ),
    );
    const rows = k.processes();
    const slots = k.memorySlots();
    for (const p of procs) await p.kill();
    return {
      rejected,
      running: rows.filter((x) => x.state === 'running').length,
      reasons: [...new Set(rows.filter((x) => x.state === 'exited').map((x) => x.reason))],
      starting: rows.filter((x) => x.state === 'starting').length,
      slots,
      after: k.memorySlots().page.used,
    };
  });
  await tab.close();
  expect(r.starting).toBe(0);
  expect(r.reasons).toEqual(['no-memory-slot']);
  expect(r.rejected.filter((c) => c !== 'kernel/no-memory-slot')).toEqual([]);
  // The limit learned is what ran at once, not what was starting when the first was refused.
  expect(r.slots.page.limit).toBe(r.running);
  expect(r.slots.page.used).toBe(r.running);
  expect(r.running).toBeGreaterThan(10);
  expect(r.after).toBe(0);
});
