/**
 * Leaks: a thousand spawn/exit cycles and a thousand install/uninstall cycles in the real app
 * leave nothing behind. Every count of `kernel.resources()` comes back to what it was before
 * (the warm pool's idle workers stay within its limits), and the registry's IndexedDB stores hold
 * exactly the records they held before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, installWith, withManifest } from './kernel-helpers';
import type { KernelResources } from '../../src/kernel';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

/** The worker pool's limits (hosts/worker/host.ts): idle workers kept in all, and per module. */
const IDLE_TOTAL = 8;
/** Exited processes the table keeps (the kernel's default `keepExited`). */
const KEEP_EXITED = 100;
/** Cycles run at once. */
const AT_ONCE = 8;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'hello', 'cat', 'seq', 'wc', 'upper');
  await installWith(page, 'bustool', 'all');
  await page.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'hello-page', grant: 'all' });
  }, withManifest(moduleBytes('hello'), { name: 'hello-page', permissions: { run: ['inpage'] } }));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** How many kinds of cycle there are; cycle `i` is of kind `i % KINDS` (see `cycles`). */
const KINDS = 25;

/**
 * Runs cycles `from` to `to - 1`, `AT_ONCE` at a time, each to its end: most are `hello` in a
 * worker; the others run in the iframe and inpage modes, a JS module, a pipeline of two stages,
 * processes killed while running (one holding a bus subscription), one that subscribes and exits,
 * a page subscription. Returns how many ended with the code expected of them.
 */
function cycles(p: Page, from: number, to: number): Promise<{ ok: number; bad: string[] }> {
  return p.evaluate(
    async ([from, to, atOnce, kinds]) => {
      const k = window.kernel;
      const enc = new TextEncoder();
      const text = (s: ReadableStream<Uint8Array>): Promise<string> => new Response(s).text();
      /** Reads until `want` shows up (a process that is running and got so far). */
      const until = async (s: ReadableStream<Uint8Array>, want: string): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
        const reader = s.getReader();
        const dec = new TextDecoder();
        let seen = '';
        while (!seen.includes(want)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`ended before "${want}" (got "${seen}")`);
          seen += dec.decode(value, { stream: true });
        }
        return reader;
      };
      const one = async (i: number): Promise<string | null> => {
        const kind = i % kinds;
        if (kind === 1 || kind === 2) {
          const proc = await k.spawn(kind === 1 ? 'hello' : 'hello-page', { mode: kind === 1 ? 'iframe' : 'inpage' });
          const [out, code] = await Promise.all([text(proc.stdout), proc.exit, text(proc.stderr)]);
          if (code === 0 && out.length > 0) return null;
          const row = k.processes().find((r) => r.pid === proc.pid);
          return `hello ${kind}: ${code} ${row?.reason ?? ''} ${row?.message ?? ''}`;
        }
        if (kind === 3) {
          const proc = await k.spawn('upper', { args: ['abc'] });
          const [out, code] = await Promise.all([text(proc.stdout), proc.exit, text(proc.stderr)]);
          return code === 0 && out === 'ABC\n' ? null : `upper: ${code} ${out}`;
        }
        if (kind === 4) {
          const [a, b] = await k.pipeline([{ name: 'seq', args: ['1', '20'] }, { name: 'wc' }]);
          if (a === undefined || b === undefined) return 'pipeline: no stages';
          const [out, ca, cb] = await Promise.all([text(b.stdout), a.exit, b.exit, text(a.stderr), text(b.stderr)]);
          return ca === 0 && cb === 0 && /\b20\b/.test(out) ? null : `pipeline: ${ca} ${cb} ${out}`;
        }
        if (kind === 5 || kind === 6) {
          // Killed while running: cat has echoed a line, so it runs and waits for more.
          const proc = await k.spawn('cat', { mode: kind === 5 ? 'worker' : 'iframe' });
          const writer = proc.stdin.getWriter();
          await writer.write(enc.encode('x\n'));
          const reader = await until(proc.stdout, 'x\n');
          await proc.kill();
          reader.releaseLock();
          const code = await proc.exit;
          return code === 137 ? null : `cat killed: ${code}`;
        }
        if (kind === 7) {
          // Killed while it holds a bus subscription and waits on it.
          const proc = await k.spawn('bustool', { args: ['sub', 'test/leaks', '1'] });
          await proc.stdin.close();
          const reader = await until(proc.stdout, 'ready\n');
          await proc.kill();
          reader.releaseLock();
          return (await proc.exit) === 137 ? null : 'bustool killed';
        }
        if (kind === 8) {
          // Subscribes, finds nothing queued, exits with its subscription open.
          const proc = await k.spawn('bustool', { args: ['sub', `test/leaks/${i}`, '1', '0'] });
          await proc.stdin.close();
          const [out, code] = await Promise.all([text(proc.stdout), proc.exit, text(proc.stderr)]);
          return code === 0 && out.startsWith('ready\n') ? null : `bustool sub: ${code} ${out}`;
        }
        if (kind === 9) {
          // A page subscription, a message through it, and its end.
          let got = 0;
          const topic = `test/page/${i}`;
          let heard!: () => void;
          const arrived = new Promise<void>((ok) => (heard = ok));
          const stop = k.bus.subscribe(topic, () => {
            got += 1;
            heard();
          });
          k.bus.publish(topic, 'ping');
          await arrived;
          stop();
          if (got !== 1) return `page subscription: ${got}`;
        }
        const proc = await k.spawn('hello');
        await proc.stdin.close();
        const [out, code] = await Promise.all([text(proc.stdout), proc.exit, text(proc.stderr)]);
        return code === 0 && out.length > 0 ? null : `hello: ${code}`;
      };
      let next = from;
      let ok = 0;
      const bad: string[] = [];
      const lane = async (): Promise<void> => {
        while (next < to) {
          const i = next++;
          try {
            // A cycle that never ends is reported with what was left running, not as a timeout.
            let timer: ReturnType<typeof setTimeout> | undefined;
            const stuck = new Promise<string>((ok) => {
              timer = setTimeout(() => {
                const left = k.processes().filter((p) => p.state !== 'exited').map((p) => `${p.pid} ${p.name} ${p.mode} ${p.state}`);
                ok(`kind ${i % kinds} did not end in 60 s; not exited: ${left.join(', ')}`);
              }, 60_000);
            });
            const wrong = await Promise.race([one(i), stuck]);
            clearTimeout(timer);
            if (wrong === null) ok += 1;
            else bad.push(`${i}: ${wrong}`);
          } catch (e) {
            bad.push(`${i}: ${String(e)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: atOnce }, lane));
      return { ok, bad };
    },
    [from, to, AT_ONCE, KINDS] as const,
  );
}

/** Waits until no process is left that has not ended for good, then reads the counts. */
async function settledResources(p: Page): Promise<KernelResources> {
  await p.waitForFunction(() => {
    const r = window.kernel.resources();
    return r.processes.live === 0 && r.startsQueued === 0;
  });
  return p.evaluate(() => window.kernel.resources());
}

/** Records in every object store of the registry's database, by store. */
function storeCounts(p: Page): Promise<Record<string, number>> {
  return p.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((ok, fail) => {
      const req = indexedDB.open('webmk');
      req.onsuccess = () => ok(req.result);
      req.onerror = () => fail(req.error);
    });
    const names = [...db.objectStoreNames];
    const tx = db.transaction(names, 'readonly');
    const counts = await Promise.all(
      names.map(
        (n) =>
          new Promise<[string, number]>((ok, fail) => {
            const c = tx.objectStore(n).count();
            c.onsuccess = () => ok([n, c.result]);
            c.onerror = () => fail(c.error);
          }),
      ),
    );
    db.close();
    return Object.fromEntries(counts);
  });
}

/** The counts that must come back exactly: everything but the warm pool and the exited rows. */
function exact(r: KernelResources): unknown {
  const { idleWorkers: _idle, timers: _timers, ...worker } = r.hosts.worker;
  return { ...r, processes: { live: r.processes.live }, hosts: { ...r.hosts, worker } };
}

describe('leaks', () => {
  it('leaves no worker, frame, port, ring, subscription or window behind after 1,000 spawn/exit cycles', { timeout: 240_000 }, async () => {
    // One cycle of each kind first: what is made once and kept (the container frame, the process
    // runtime on the page, bustool's global topic) belongs to the baseline.
    const warm = await cycles(page, 0, KINDS);
    expect(warm.bad).toEqual([]);
    const before = await settledResources(page);
    expect(before.processes.live).toBe(0);
    expect(before.rings).toBe(0);
    expect(before.hosts.iframe.frames).toBe(1);
    expect(before.hosts.iframe.ports).toBe(1);
    expect(before.capabilities.bus?.globalTopics).toBe(1);

    const total = 1000;
    const done = await cycles(page, KINDS, KINDS + total);
    expect(done.bad).toEqual([]);
    expect(done.ok).toBe(total);

    const after = await settledResources(page);
    expect(exact(after)).toEqual(exact(before));
    // Nothing busy, booting or waiting; no stdio ring held, no blob: URL, no memory slot.
    expect(after.hosts.worker).toMatchObject({ processes: 0, busyWorkers: 0, booting: 0, waiting: 0, blobUrls: 0 });
    expect(after.rings).toBe(0);
    expect(after.memorySlots).toEqual({ page: 0, frames: 0 });
    expect(after.capabilities.gfx).toEqual({ windows: 0, canvasesAsked: 0 });
    // The warm pool stays within its limit, each idle worker with the one timer that ends it.
    expect(after.hosts.worker.idleWorkers).toBeLessThanOrEqual(IDLE_TOTAL);
    expect(after.hosts.worker.timers).toBe(after.hosts.worker.idleWorkers);
    // The table keeps the most recent ended processes, no more.
    expect(after.processes.exited).toBe(KEEP_EXITED);
  });

  it('leaves the registry and the compiled-module cache as they were after 1,000 install/uninstall cycles', { timeout: 240_000 }, async () => {
    const names = () => page.evaluate(async () => (await window.kernel.modules()).map((m) => m.name).sort());
    const beforeStores = await storeCounts(page);
    const beforeNames = await names();
    const before = await page.evaluate(() => window.kernel.resources().catalog);
    expect(beforeStores.modules).toBe(beforeNames.length);

    const done = await page.evaluate(
      async ([a, b, lanes, perLane]) => {
        const k = window.kernel;
        const first = new Uint8Array(a);
        const second = new Uint8Array(b);
        let cycles = 0;
        await Promise.all(
          Array.from({ length: lanes }, async (_, lane) => {
            const name = `leak-${lane}`;
            for (let i = 0; i < perLane; i++) {
              await k.install(first, { name });
              // Every fourth time the module is replaced by another before it goes.
              if (i % 4 === 3) await k.install(second, { name, grant: 'all' });
              await k.uninstall(name);
              cycles += 1;
            }
          }),
        );
        return cycles;
      },
      [moduleBytes('head'), moduleBytes('sort'), 4, 250] as const,
    );
    expect(done).toBe(1000);

    expect(await storeCounts(page)).toEqual(beforeStores);
    expect(await names()).toEqual(beforeNames);
    expect(await page.evaluate(() => window.kernel.resources().catalog)).toEqual(before);
  });
});
