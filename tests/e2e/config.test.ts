/**
 * A module's stored configuration through `window.kernel`, in real Chromium: `kernel.configure`,
 * what survives a reload, a reinstall and an uninstall, how it ranks between a spawn's options
 * and the manifest, refusals that store nothing, the migration of a registry stored before it,
 * and the modules that start when the app opens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { AutostartResult, ModuleConfig, ProcessInfo } from '../../src/kernel';
import { launchBrowser, moduleBytes, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { install, installWith, withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

/** A registry as the app stored it at schema version 2 (before configurations): one module, `legacy`. */
async function seedVersion2Registry(): Promise<void> {
  const seed = await browser.context.newPage();
  await seed.goto(`${server.url}not-the-app`); // same origin, no app: nothing opens the database first
  await seed.evaluate(
    async ([bytes]) => {
      const data = new Uint8Array(bytes);
      const sha256 = [...new Uint8Array(await crypto.subtle.digest('SHA-256', data))].map((b) => b.toString(16).padStart(2, '0')).join('');
      const req = indexedDB.open('webmk', 2);
      req.onupgradeneeded = () => {
        const modules = req.result.createObjectStore('modules', { keyPath: 'name' });
        modules.createIndex('by-sha256', 'sha256');
        req.result.createObjectStore('blobs', { keyPath: 'sha256' });
      };
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        req.onsuccess = () => ok(req.result);
        req.onerror = () => fail(req.error);
      });
      const tx = db.transaction(['modules', 'blobs'], 'readwrite');
      tx.objectStore('blobs').put({ sha256, bytes: data.buffer });
      tx.objectStore('modules').put({
        name: 'legacy',
        version: '1.0.0',
        description: '',
        size: data.length,
        sha256,
        installedAt: Date.now(),
        command: true,
        imports: [],
        exports: [],
        capabilities: [],
        manifest: {},
        requested: [],
        grants: { publish: [], subscribe: [], kernel: [] },
      });
      await new Promise<void>((ok, fail) => {
        tx.oncomplete = () => ok();
        tx.onerror = () => fail(tx.error);
      });
      db.close();
    },
    [moduleBytes('hello')] as const,
  );
  await seed.close();
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await seedVersion2Registry();
  page = await openApp(browser.context, server.url);
  await install(page, 'crashy-supervised', 'hello');
  await installWith(page, 'crashy', 'all');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const configOf = (name: string): Promise<ModuleConfig | undefined> =>
  page.evaluate(async (n) => (await window.kernel.modules()).find((m) => m.name === n)?.config, name);

const configure = (name: string, config: unknown): Promise<string> =>
  page.evaluate(
    ([n, c]) =>
      (window.kernel as unknown as { configure(n: unknown, c: unknown): Promise<unknown> }).configure(n, c).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      ),
    [name, config] as const,
  );

async function reload(): Promise<void> {
  await page.reload();
  await waitForKernel(page);
}

/** Spawns a module (options as given), reads its stdout to the end and returns its final row. */
function runToEnd(name: string, opts: Record<string, unknown> = {}): Promise<{ stdout: string; row: ProcessInfo | undefined }> {
  return page.evaluate(
    async ([n, o]) => {
      const p = await window.kernel.spawn(n, o);
      await p.stdin.close();
      const [stdout] = await Promise.all([new Response(p.stdout).text(), p.exit]);
      return { stdout, row: window.kernel.processes().find((r) => r.pid === p.pid) };
    },
    [name, opts] as const,
  );
}

describe('kernel.configure', () => {
  it('a registry stored before configurations existed is migrated: its module has none, and runs', async () => {
    expect(await configOf('legacy')).toEqual({});
    expect((await runToEnd('legacy')).stdout).toContain('hello, world');
  });

  it('stores the configuration in the module record, returns it, and keeps it across a reload', async () => {
    const config: ModuleConfig = {
      restart: { restart: 'transient', intensity: 4, periodMs: 30_000, backoff: { initialMs: 50 } },
      watchdogMs: 750,
      autostart: false,
      startOrder: 7,
      args: ['hi', 'there'],
      mode: 'worker',
    };
    const info = await page.evaluate(([c]) => window.kernel.configure('hello', c), [config] as const);
    expect(info.name).toBe('hello');
    expect(info.config).toEqual(config);
    expect(await configOf('hello')).toEqual(config);
    await reload();
    expect(await configOf('hello')).toEqual(config);
  });

  it('replaces the whole configuration ({} clears it) and announces the change', async () => {
    const fired = await page.evaluate(async () => {
      let n = 0;
      window.kernel.addEventListener('modules', () => n++);
      await window.kernel.configure('hello', { startOrder: 1 });
      return n;
    });
    expect(fired).toBeGreaterThanOrEqual(1);
    expect(await configOf('hello')).toEqual({ startOrder: 1 });
    await page.evaluate(() => window.kernel.configure('hello', {}));
    expect(await configOf('hello')).toEqual({});
  });

  it('survives a reinstall of the same name; an uninstall drops it', async () => {
    await page.evaluate(() => window.kernel.configure('hello', { args: ['kept'] }));
    await install(page, 'hello');
    expect(await configOf('hello')).toEqual({ args: ['kept'] });
    // Replaced by other bytes under the same name: still kept.
    await page.evaluate(async (bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'hello' }), moduleBytes('cat'));
    expect(await configOf('hello')).toEqual({ args: ['kept'] });
    await page.evaluate(() => window.kernel.uninstall('hello'));
    await install(page, 'hello');
    expect(await configOf('hello')).toEqual({});
  });

  it('refuses a bad configuration with kernel/bad-argument and stores nothing', async () => {
    await page.evaluate(() => window.kernel.configure('crashy', { watchdogMs: 100 }));
    const bad: unknown[] = [
      null,
      'autostart',
      { restart: 'always' },
      { restart: { restart: 'transient', intensity: -1 } },
      { watchdogMs: 1 },
      { mode: 'thread' },
      { autostart: 'yes' },
      { startOrder: 1.5 },
      { args: 'a b' },
      { args: [1] },
      { watchdogMS: 500 },
    ];
    for (const c of bad) expect(await configure('crashy', c), JSON.stringify(c)).toBe('kernel/bad-argument');
    expect(await configOf('crashy')).toEqual({ watchdogMs: 100 });
    await reload();
    expect(await configOf('crashy')).toEqual({ watchdogMs: 100 });
    await page.evaluate(() => window.kernel.configure('crashy', {}));
  });

  it('rejects an unknown module with registry/not-found and a name that is not a string with kernel/bad-argument', async () => {
    expect(await configure('no-such-module', {})).toBe('registry/not-found');
    expect(await configure(42 as unknown as string, {})).toBe('kernel/bad-argument');
    const names = await page.evaluate(async () => (await window.kernel.modules()).map((m) => m.name));
    expect(names).not.toContain('no-such-module');
  });
});

describe('precedence: spawn options > configuration > manifest > defaults', () => {
  it('the manifest gives restart and watchdogMs when nothing else does', async () => {
    const { stdout, row } = await runToEnd('crashy-supervised', { args: ['exit', '5'] });
    expect(stdout).toBe('exit 5\nexit 5\n');
    expect(row).toMatchObject({ restart: 'transient', watchdogMs: 200, reason: 'restart-limit', incarnation: 2 });
  });

  it('the stored configuration beats the manifest, args included', async () => {
    await page.evaluate(() =>
      window.kernel.configure('crashy-supervised', {
        restart: { restart: 'permanent', intensity: 2, backoff: { initialMs: 10 } },
        watchdogMs: 300,
        args: ['exit', '0'],
      }),
    );
    const { stdout, row } = await runToEnd('crashy-supervised');
    // permanent: restarted after a clean exit too, twice, then its limit.
    expect(stdout).toBe('exit 0\nexit 0\nexit 0\n');
    expect(row).toMatchObject({ restart: 'permanent', watchdogMs: 300, args: ['crashy-supervised', 'exit', '0'], reason: 'restart-limit', incarnation: 3 });
  });

  it('a spawn option beats the stored configuration, one setting at a time', async () => {
    const { stdout, row } = await runToEnd('crashy-supervised', { args: ['exit', '3'], restart: { restart: 'temporary' } });
    expect(stdout).toBe('exit 3\n');
    expect(row).toMatchObject({ restart: 'temporary', watchdogMs: 300, args: ['crashy-supervised', 'exit', '3'], reason: 'exited', incarnation: 1 });
    const watched = await runToEnd('crashy-supervised', { watchdogMs: 400, restart: { restart: 'temporary' } });
    expect(watched.row).toMatchObject({ watchdogMs: 400, args: ['crashy-supervised', 'exit', '0'] });
  });

  it('it applies from the next start: a process that runs keeps what it started with', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      await k.configure('crashy', { restart: { restart: 'permanent', intensity: 5 } });
      const p = await k.spawn('crashy', { args: ['spin'] });
      const reader = p.stdout.getReader();
      await reader.read(); // it runs
      await k.configure('crashy', { restart: { restart: 'temporary' }, watchdogMs: 50 });
      const running = k.processes().find((x) => x.pid === p.pid);
      await k.kill(p.pid);
      const next = await k.spawn('crashy', { args: ['exit', '0'] });
      await next.exit;
      const nextRow = k.processes().find((x) => x.pid === next.pid);
      await k.configure('crashy', {});
      return { before: running && [running.restart, running.watchdogMs], after: nextRow && [nextRow.restart, nextRow.watchdogMs] };
    });
    expect(r).toEqual({ before: ['permanent', undefined], after: ['temporary', 50] });
  });

  it('a stored iframe mode runs the module in the frame, and a spawn may ask for a worker over it', async () => {
    await page.evaluate(() => window.kernel.configure('crashy-supervised', { mode: 'iframe', args: ['exit', '0'] }));
    const framed = await runToEnd('crashy-supervised', { restart: { restart: 'temporary' } });
    expect(framed.stdout).toBe('exit 0\n');
    expect(framed.row?.mode).toBe('iframe');
    const worker = await runToEnd('crashy-supervised', { mode: 'worker', restart: { restart: 'temporary' } });
    expect(worker.row?.mode).toBe('worker');
    await page.evaluate(() => window.kernel.configure('crashy-supervised', {}));
  });

  it('a stored mode that cannot run yet is kept but refused at spawn; a spawn may ask for worker over it', async () => {
    await page.evaluate(() => window.kernel.configure('crashy-supervised', { mode: 'remote', args: ['exit', '0'] }));
    expect(await configOf('crashy-supervised')).toEqual({ mode: 'remote', args: ['exit', '0'] });
    const refused = await page.evaluate(() =>
      window.kernel.spawn('crashy-supervised').then(
        () => null,
        (e: { code: string; details: Record<string, unknown> }) => ({ code: e.code, details: e.details }),
      ),
    );
    expect(refused).toEqual({ code: 'kernel/bad-argument', details: { mode: 'remote', from: 'configuration' } });
    const { stdout, row } = await runToEnd('crashy-supervised', { mode: 'worker', restart: { restart: 'temporary' } });
    expect(stdout).toBe('exit 0\n');
    expect(row?.mode).toBe('worker');
    await page.evaluate(() => window.kernel.configure('crashy-supervised', {}));
  });
});

describe('configuration in the manifest', () => {
  it('install refuses a malformed mode, autostart or startOrder with registry/invalid-manifest', async () => {
    const codes = await page.evaluate(
      async (list) =>
        Promise.all(list.map((bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'bad-manifest' }).then(() => 'ok', (e: { code: string }) => e.code))),
      [{ mode: 'thread' }, { autostart: 'yes' }, { startOrder: 0.5 }].map((m) => withManifest(moduleBytes('sleep'), m)),
    );
    expect(codes).toEqual(Array(3).fill('registry/invalid-manifest'));
    const names = await page.evaluate(async () => (await window.kernel.modules()).map((m) => m.name));
    expect(names).not.toContain('bad-manifest');
  });
});

describe('autostart', () => {
  /** Waits for this page's `autostart()` to finish and returns what it did. */
  const autostarted = async (): Promise<AutostartResult[]> => {
    await page.waitForFunction(() => window.kernel.autostarted() !== undefined, undefined, { timeout: 20_000 });
    return page.evaluate(() => window.kernel.autostarted() ?? []);
  };

  it('nothing configured to start: an empty report', async () => {
    expect(await autostarted()).toEqual([]);
  });

  it('starts the configured modules after a reload in ascending startOrder (ties by name) with their args; a failing one does not stop the others', async () => {
    await page.evaluate(async (bytes) => {
      const k = window.kernel;
      for (const name of ['boot-a', 'boot-b', 'boot-c']) await k.install(new Uint8Array(bytes), { name });
      await k.configure('boot-a', { autostart: true, startOrder: 3, args: ['60000'] });
      await k.configure('boot-b', { autostart: true, startOrder: 1, args: ['60000'] });
      await k.configure('boot-c', { autostart: true, startOrder: 2, args: ['60001'] });
      // Ties with boot-c and comes after it by name; its mode cannot run yet, so its spawn is refused.
      await k.configure('crashy-supervised', { autostart: true, startOrder: 2, mode: 'remote' });
      // Stored, but not set to start: stays down.
      await k.configure('crashy', { startOrder: 0 });
    }, moduleBytes('sleep'));
    // Its manifest says to start first; with no args configured, sleep's default (100 ms) applies.
    await page.evaluate(async (bytes) => window.kernel.install(new Uint8Array(bytes), { name: 'boot-manifest' }), withManifest(moduleBytes('sleep'), { autostart: true, startOrder: 0 }));
    await reload();
    const report = await autostarted();
    expect(report.map((r) => [r.name, r.startOrder, r.status])).toEqual([
      ['boot-manifest', 0, 'started'],
      ['boot-b', 1, 'started'],
      ['boot-c', 2, 'started'],
      ['crashy-supervised', 2, 'failed'],
      ['boot-a', 3, 'started'],
    ]);
    const failed = report[3];
    expect(failed).toMatchObject({ status: 'failed', code: 'kernel/bad-argument' });
    const started = report.filter((r): r is Extract<AutostartResult, { status: 'started' }> => r.status === 'started');
    expect(started.map((r) => r.args)).toEqual([[], ['60000'], ['60001'], ['60000']]);
    // Each spawn settled before the next: pids count up in start order.
    const pids = started.map((r) => r.pid);
    expect([...pids].sort((a, b) => a - b)).toEqual(pids);

    const rows = await page.evaluate(() => window.kernel.processes());
    expect(rows.map((r) => [r.pid, r.name, r.args])).toEqual([
      [pids[0], 'boot-manifest', ['boot-manifest']],
      [pids[1], 'boot-b', ['boot-b', '60000']],
      [pids[2], 'boot-c', ['boot-c', '60001']],
      [pids[3], 'boot-a', ['boot-a', '60000']],
    ]);
    // It ran (and ended by itself); the others sleep on.
    await page.waitForFunction((first) => window.kernel.processes().find((r) => r.pid === first)?.reason === 'exited', pids[0]);
    await page.waitForFunction(() => window.kernel.processes().filter((r) => r.state === 'running').length === 3);

    // Once per kernel: asking again gives the same report and starts nothing more.
    const again = await page.evaluate(async () => {
      const r = await window.kernel.autostart();
      return { report: r, count: window.kernel.processes().length };
    });
    expect(again).toEqual({ report, count: 4 });
  });

  it('the order holds across another reload, and what is no longer set to start stays down', async () => {
    await page.evaluate(async () => {
      const k = window.kernel;
      await k.configure('boot-a', { autostart: true, startOrder: -1, args: ['60000'] });
      await k.configure('boot-c', { args: ['60001'] });
      await k.configure('crashy-supervised', {});
      // The configuration beats the manifest: not at boot any more.
      await k.configure('boot-manifest', { autostart: false });
    });
    await reload();
    const report = await autostarted();
    expect(report.map((r) => `${r.name}:${r.status}`)).toEqual(['boot-a:started', 'boot-b:started']);
    const rows = await page.evaluate(() => window.kernel.processes().map((r) => [r.pid, r.name]));
    expect(rows).toEqual(report.map((r) => [r.status === 'started' ? r.pid : -1, r.name]));
  });
});
