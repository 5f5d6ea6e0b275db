/**
 * Past the address-space wall (ADR 0019, 0028): with the auto-hibernate policy on, a thousand
 * interactive migratable processes started and left waiting for input all answer, one after
 * another, though one renderer holds about 125 live wasm memories (FACTS.md). Each answer
 * resumes its process from IndexedDB and hibernates the least recently active one.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

const COUNT = Number(process.env.WEBMK_THOUSAND ?? 1000);
/** Live memories the policy keeps to: below the wall, so the run never depends on when the browser frees one. */
const MAX_LIVE = 64;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  page.on('console', (m) => {
    if (m.text().startsWith('[thousand]')) console.log(m.text());
  });
  await page.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'accum', migratable: true });
  }, moduleBytes('accum'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it(`${COUNT} idle interactive processes all answer, one after another, with at most ${MAX_LIVE} live`, async () => {
  const r = await page.evaluate(
    async ([count, maxLive]) => {
      const k = window.kernel;
      k.setAutoHibernate({ maxLive, atWall: true });
      const dec = new TextDecoder();
      const enc = new TextEncoder();
      interface Proc {
        pid: number;
        w: WritableStreamDefaultWriter<Uint8Array>;
        r: ReadableStreamDefaultReader<Uint8Array>;
        text: string;
      }
      /** Reads its stdout until it holds `want`. */
      const until = async (p: Proc, want: string): Promise<void> => {
        while (!p.text.includes(want)) {
          const { value, done } = await p.r.read();
          if (done) {
            const row = k.processes().find((x) => x.pid === p.pid);
            throw new Error(`process ${p.pid} ended before "${want}": ${p.text} ${JSON.stringify(row)} ${JSON.stringify(k.memorySlots())}`);
          }
          p.text += dec.decode(value, { stream: true });
        }
      };
      let peak = 0;
      const t0 = performance.now();
      const procs: Proc[] = [];
      for (let i = 0; i < count; i++) {
        const h = await k.spawn('accum', {});
        const p: Proc = { pid: h.pid, w: h.stdin.getWriter(), r: h.stdout.getReader(), text: '' };
        await until(p, 'ready\n');
        procs.push(p);
        peak = Math.max(peak, k.memorySlots().page.used);
        if (i % 100 === 99) console.log(`[thousand] started ${i + 1} at ${Math.round(performance.now() - t0)} ms`);
      }
      const started = performance.now() - t0;
      const states = k.processes().filter((x) => procs.some((p) => p.pid === x.pid));
      const hibernated = states.filter((x) => x.state === 'hibernated').length;
      const t1 = performance.now();
      for (const [i, p] of procs.entries()) {
        await p.w.write(enc.encode(`${i + 1}\n`));
        await until(p, `n=1 total=${i + 1} `);
        peak = Math.max(peak, k.memorySlots().page.used);
        if (i % 100 === 99) console.log(`[thousand] answered ${i + 1} at ${Math.round(performance.now() - t1)} ms`);
      }
      const answered = performance.now() - t1;
      const bad = procs.filter((p) => !/n=1 total=\d+ check=\d+ clock=ok/.test(p.text)).length;
      const wall = k.memorySlots().page;
      k.setAutoHibernate(null);
      await Promise.all(procs.map((p) => k.kill(p.pid)));
      return { started, answered, hibernated, bad, peak, wall, left: k.processes().filter((x) => x.state !== 'exited').length };
    },
    [COUNT, MAX_LIVE] as const,
  );
  console.log(`[thousand] ${COUNT} started in ${Math.round(r.started)} ms, answered in ${Math.round(r.answered)} ms (${(r.answered / COUNT).toFixed(1)} ms each), peak ${r.peak} live`);
  expect(r.bad).toBe(0);
  expect(r.hibernated).toBeGreaterThanOrEqual(COUNT - MAX_LIVE);
  expect(r.peak).toBeLessThanOrEqual(MAX_LIVE);
}, 400_000);

it('a resume the browser has no memory for leaves the process hibernated; it answers once a slot is free', async () => {
  // A tab of its own: it fills its renderer to the wall.
  const tab = await openApp(browser.context, server.url);
  await tab.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'accum', migratable: true });
  }, moduleBytes('accum'));
  await tab.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'cat' });
  }, moduleBytes('cat'));
  const r = await tab.evaluate(async () => {
    const k = window.kernel;
    const dec = new TextDecoder();
    const a = await k.spawn('accum', {});
    const w = a.stdin.getWriter();
    const reader = a.stdout.getReader();
    let text = '';
    const until = async (want: string): Promise<void> => {
      while (!text.includes(want)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`accum ended: ${text}`);
        text += dec.decode(value, { stream: true });
      }
    };
    await until('ready\n');
    await k.hibernate(a.pid);
    const state = (pid: number) => k.processes().find((x) => x.pid === pid)?.state;
    const settled = (pid: number, want: (s: string | undefined) => boolean) =>
      new Promise<void>((ok) => {
        const on = () => {
          if (!want(state(pid))) return;
          k.removeEventListener('statechange', on);
          ok();
        };
        k.addEventListener('statechange', on);
        on();
      });
    // Parked cats up to the wall: the kernel learns the limit.
    const cats: number[] = [];
    for (let i = 0; i < 300; i++) {
      const p = await k.spawn('cat', {});
      await settled(p.pid, (s) => s !== 'starting');
      if (state(p.pid) !== 'running') break;
      cats.push(p.pid);
    }
    const slots = k.memorySlots().page;
    const resumed = await k.resume(a.pid).then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? String(e),
    );
    const afterResume = state(a.pid);
    // Input for it tries too, and fails the same way: still hibernated, nothing lost.
    const seen: string[] = [];
    const on = (e: Event) => {
      const d = (e as CustomEvent<{ pid: number; state: string }>).detail;
      if (d.pid === a.pid) seen.push(d.state);
    };
    k.addEventListener('statechange', on);
    await w.write(new TextEncoder().encode('5\n'));
    await new Promise<void>((ok) => {
      const check = () => (seen.includes('resuming') && state(a.pid) === 'hibernated' ? ok() : setTimeout(check, 20));
      check();
    });
    const afterInput = state(a.pid);
    for (const pid of cats.splice(0, 5)) await k.kill(pid);
    // A while later its input tries again: it runs and answers.
    await until('n=1 total=5 ');
    k.removeEventListener('statechange', on);
    const last = state(a.pid);
    for (const pid of [...cats, a.pid]) await k.kill(pid);
    return { cats: cats.length, slots, resumed, afterResume, afterInput, seen, last };
  });
  await tab.close();
  expect(r.slots.limit).toBeGreaterThan(10);
  expect(r.resumed).toBe('migrate/failed');
  expect(r.afterResume).toBe('hibernated');
  expect(r.afterInput).toBe('hibernated');
  expect(r.last).toBe('running');
}, 240_000);
