/**
 * Hibernated processes of several tabs of the app, in real Chromium (ADR 0037): pids are each
 * tab's own, so two tabs hibernate processes with the same pid and each keeps its own; a reload
 * brings back the tab's own; a closed tab's are brought back by the next page to start, and by
 * one page only when two start together, both of two closed tabs that used one pid; what an
 * older version stored is brought back too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { startBackground, waitOutput } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let a: Page;
let b: Page;
/** Pages opened after `a` closed. */
let later: Page[] = [];

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  a = await openApp(browser.context, server.url);
  await a.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'accum', migratable: true })), moduleBytes('accum'));
  b = await openApp(browser.context, server.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Starts `accum` in `page`, gives it `value`, and waits for its first sum. */
async function accum(page: Page, value: number): Promise<number> {
  const pid = await startBackground(page, 'accum', [], { keepStdin: true });
  await waitOutput(page, pid, 'ready\n');
  await send(page, pid, `${value}\n`);
  await waitOutput(page, pid, `n=1 total=${value} `);
  return pid;
}

function send(page: Page, pid: number, text: string): Promise<void> {
  return page.evaluate(
    async ([p, t]) => {
      const w = window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> };
      await w.__stdin[p]?.write(new TextEncoder().encode(t));
    },
    [pid, text] as const,
  );
}

function hibernate(page: Page, pid: number): Promise<void> {
  return page.evaluate((p) => window.kernel.hibernate(p), pid);
}

/** The pids of `page`'s hibernated `accum` processes. */
function hibernated(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    window.kernel
      .processes()
      .filter((r) => r.state === 'hibernated' && r.name === 'accum')
      .map((r) => r.pid),
  );
}

/** Attaches to a hibernated process after a reload, writes `line`, and reads what it prints until its stdin closes. */
function attachAndSend(page: Page, pid: number, line: string): Promise<string> {
  return page.evaluate(
    async ([p, l]) => {
      const proc = await window.kernel.attach(p);
      const w = proc.stdin.getWriter();
      await w.write(new TextEncoder().encode(l));
      await w.close();
      return new Response(proc.stdout).text();
    },
    [pid, line] as const,
  );
}

/**
 * Starts `accum` in both pages (given `vx` and `vy`) until both run one under the same pid, as
 * each tab numbers its own processes, and hibernates those two; returns the pid.
 */
async function hibernateSamePid(x: Page, vx: number, y: Page, vy: number): Promise<number> {
  let px = await accum(x, vx);
  let py = await accum(y, vy);
  while (px !== py) {
    if (px < py) px = await accum(x, vx);
    else py = await accum(y, vy);
  }
  await hibernate(x, px);
  await hibernate(y, py);
  return px;
}

it('two tabs hibernate processes with the same pid, and each keeps its own across a reload', async () => {
  const pid = await hibernateSamePid(a, 5, b, 7);

  await a.reload();
  await waitForKernel(a);
  expect(await hibernated(a)).toContain(pid);
  expect(await attachAndSend(a, pid, '1\n')).toMatch(/^n=2 total=6 .*\nbye n=2 total=6\n$/);

  // The other tab's process, with the same pid, is still its own.
  expect(await hibernated(b)).toContain(pid);
  await send(b, pid, '1\n');
  await waitOutput(b, pid, 'n=2 total=8 ');
});

it("a closed tab's hibernated process is brought back by one of the pages that start after it", async () => {
  const pid = await accum(a, 3);
  await hibernate(a, pid);
  await a.close();
  later = await Promise.all([openApp(browser.context, server.url), openApp(browser.context, server.url)]);
  const [c, d] = later;
  if (c === undefined || d === undefined) throw new Error('two pages');
  const found = await Promise.all([c, d].map(hibernated));
  const holders = [c, d].filter((_, i) => found[i]?.includes(pid));
  expect(holders).toHaveLength(1);
  // The tab that stayed open did not start again: it did not take it.
  expect(await hibernated(b)).not.toContain(pid);
  const [holder] = holders;
  if (holder === undefined) throw new Error('nobody holds it');
  expect(await attachAndSend(holder, pid, '4\n')).toMatch(/^n=2 total=7 .*\nbye n=2 total=7\n$/);
});

it('a process hibernated by an older version (one store for all tabs) is brought back by the next page', async () => {
  const pid = await accum(b, 9);
  await hibernate(b, pid);
  await Promise.all([b, ...later].map((p) => p.close()));
  // A page of the app's origin that is not the app: it rewrites the store as the older version kept it.
  const page = await browser.context.newPage();
  await page.goto(`${server.url}no-such-page`);
  const moved = await page.evaluate(async () => {
    const open = (version?: number, upgrade?: (db: IDBDatabase) => void) =>
      new Promise<IDBDatabase>((ok, fail) => {
        const req = indexedDB.open('webmk-hibernated', version);
        req.onupgradeneeded = () => upgrade?.(req.result);
        req.onsuccess = () => ok(req.result);
        req.onerror = () => fail(req.error);
      });
    const all = <T>(db: IDBDatabase, store: string) =>
      new Promise<T[]>((ok, fail) => {
        const req = db.transaction(store).objectStore(store).getAll();
        req.onsuccess = () => ok(req.result as T[]);
        req.onerror = () => fail(req.error);
      });
    const now = await open();
    const records = await all<Record<string, unknown>>(now, 'records');
    const images = await all<{ key: string; snapshot: unknown }>(now, 'images');
    now.close();
    await new Promise((ok, fail) => {
      const req = indexedDB.deleteDatabase('webmk-hibernated');
      req.onsuccess = ok;
      req.onerror = () => fail(req.error);
    });
    const old = await open(1, (db) => {
      db.createObjectStore('processes', { keyPath: 'pid' });
      db.createObjectStore('snapshots', { keyPath: 'pid' });
    });
    const tx = old.transaction(['processes', 'snapshots'], 'readwrite');
    for (const { owner: _o, key, ...r } of records) {
      tx.objectStore('processes').put(r);
      tx.objectStore('snapshots').put({ pid: r.pid, snapshot: images.find((i) => i.key === key)?.snapshot });
    }
    await new Promise((ok, fail) => {
      tx.oncomplete = ok;
      tx.onerror = () => fail(tx.error);
    });
    old.close();
    return records.map((r) => r.pid);
  });
  expect(moved).toContain(pid);
  await page.goto(server.url);
  await waitForKernel(page);
  expect(await hibernated(page)).toContain(pid);
  expect(await attachAndSend(page, pid, '1\n')).toMatch(/^n=2 total=10 .*\nbye n=2 total=10\n$/);
});

it('two closed tabs that hibernated the same pid: the next page brings back both, one under a new pid', async () => {
  const [x, y] = await Promise.all([openApp(browser.context, server.url), openApp(browser.context, server.url)]);
  if (x === undefined || y === undefined) throw new Error('two pages');
  const px = await hibernateSamePid(x, 20, y, 30);
  await Promise.all([x.close(), y.close()]);
  const z = await openApp(browser.context, server.url);
  const pids = await hibernated(z);
  expect(pids).toContain(px);
  expect(pids).toHaveLength(2);
  const totals = await Promise.all(pids.map(async (p) => /total=(\d+)/.exec(await attachAndSend(z, p, '1\n'))?.[1]));
  expect(totals.sort()).toEqual(['21', '31']);
});
