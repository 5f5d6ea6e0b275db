/**
 * Service modules in real Chromium: a module without `_start` (an Extism-style plugin built as a
 * WASI reactor) stays instantiated and serves calls from the page (`kernel.call`) and from other
 * modules (`webmk_call`), one at a time, in order; errors have codes; a trap or a deadline ends
 * the instance and the next call meets a fresh one; a call loop is refused, never a deadlock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, installWith, run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

type Outcome = { ok: true; text: string; bytes: number[] } | { ok: false; code: string; message: string };

/** Calls `module.fn(input)` from the page; the output as text and bytes, or the error's code. */
function call(module: string, fn: string, input?: string | number[], opts?: { timeoutMs?: number }): Promise<Outcome> {
  return page.evaluate(
    async ([m, f, i, o]) => {
      try {
        const out = await window.kernel.call(m, f, Array.isArray(i) ? new Uint8Array(i) : i, o);
        return { ok: true as const, text: new TextDecoder().decode(out), bytes: [...out] };
      } catch (e) {
        const err = e as { code: string; message: string };
        return { ok: false as const, code: err.code, message: err.message };
      }
    },
    [module, fn, input, opts] as const,
  );
}

/** Installs the plugin fixture under another name (its manifest still asks for call:plugin-b). */
async function installPluginAs(name: string, grant?: 'all'): Promise<void> {
  await page.evaluate(
    async ([n, bytes, g]) => {
      await window.kernel.install(new Uint8Array(bytes), { name: n, ...(g !== undefined ? { grant: g } : {}) });
    },
    [name, moduleBytes('plugin'), grant] as const,
  );
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await installWith(page, 'plugin', 'all');
  await installWith(page, 'plugin-b', 'all');
  await install(page, 'hello', 'reactor');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('calling a service from the page', () => {
  it('returns the output bytes for bytes and for text, and the service shows as a running process', async () => {
    expect(await call('plugin', 'echo', [0, 1, 2, 255, 128])).toMatchObject({ ok: true, bytes: [0, 1, 2, 255, 128] });
    expect(await call('plugin', 'upper', 'hello, service')).toMatchObject({ ok: true, text: 'HELLO, SERVICE' });
    expect(await call('plugin', 'echo')).toMatchObject({ ok: true, bytes: [] });
    const rows = await page.evaluate(() => window.kernel.processes().filter((p) => p.name === 'plugin'));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.state).toBe('running');
  });

  it('runs calls one at a time, in the order they came', async () => {
    const outs = await page.evaluate(async () => {
      const parts = ['a', 'b', 'c', 'd', 'e', 'f'];
      const all = await Promise.all(parts.map((p) => window.kernel.call('plugin', 'append', p)));
      return all.map((o) => new TextDecoder().decode(o));
    });
    expect(outs).toEqual(['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef']);
  });

  it('meets a fresh instance, under the same pid, once the module was reinstalled with other bytes (ADR 0023)', async () => {
    await installPluginAs('swapped');
    expect(await call('swapped', 'count')).toMatchObject({ ok: true, text: '1' });
    expect(await call('swapped', 'count')).toMatchObject({ ok: true, text: '2' });
    const first = await page.evaluate(() => window.kernel.processes().find((p) => p.name === 'swapped' && p.state !== 'exited')?.pid);
    await page.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'swapped' })), moduleBytes('plugin-b'));
    expect(await call('swapped', 'count')).toMatchObject({ ok: true, text: '1' });
    const live = await page.evaluate(() => window.kernel.processes().filter((p) => p.name === 'swapped' && p.state !== 'exited').map((p) => p.pid));
    expect(live).toHaveLength(1);
    expect(live[0]).toBe(first);
    const row = await page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p), first);
    expect(row?.incarnation).toBe(2);
  });

  it('refuses an unknown module, an unknown function, a command and bad arguments with their codes', async () => {
    expect(await call('no-such-module', 'echo')).toMatchObject({ ok: false, code: 'kernel/unknown-module' });
    expect(await call('plugin', 'no_such_function')).toMatchObject({ ok: false, code: 'service/no-such-function' });
    expect(await call('plugin', '_initialize')).toMatchObject({ ok: false, code: 'service/no-such-function' });
    expect(await call('hello', 'main')).toMatchObject({ ok: false, code: 'service/not-a-service' });
    expect(await call('plugin', 'echo', 'x', { timeoutMs: -1 })).toMatchObject({ ok: false, code: 'kernel/bad-argument' });
    const bad = await page.evaluate(() =>
      window.kernel.call('plugin', 'echo', 42 as unknown as string).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      ),
    );
    expect(bad).toBe('kernel/bad-argument');
  });

  it('serves a plain WASI reactor without Extism imports: a function returning 0 gives no output', async () => {
    expect(await call('reactor', 'add')).toMatchObject({ ok: true, bytes: [] });
  });

  it('reports the error a plugin sets as service/error with its message, and the plugin stays usable', async () => {
    const r = await call('plugin', 'fail', 'x');
    expect(r).toMatchObject({ ok: false, code: 'service/error', message: 'plugin says no' });
    expect(await call('plugin', 'upper', 'still here')).toMatchObject({ ok: true, text: 'STILL HERE' });
  });
});

describe('a service killed', () => {
  it('fails its running and queued calls with service/error; the next call starts a new process', async () => {
    await installPluginAs('killme');
    expect(await call('killme', 'count')).toMatchObject({ ok: true, text: '1' });
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const pid = k.processes().find((p) => p.name === 'killme' && p.state !== 'exited')?.pid ?? -1;
      const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      const spin = code(k.call('killme', 'spin', '', { timeoutMs: 20_000 }));
      const queued = code(k.call('killme', 'count', '', { timeoutMs: 20_000 }));
      await new Promise((ok) => setTimeout(ok, 200));
      await k.kill(pid);
      const codes = [await spin, await queued];
      const next = new TextDecoder().decode(await k.call('killme', 'count'));
      const now = k.processes().find((p) => p.name === 'killme' && p.state !== 'exited')?.pid;
      return { codes, next, pid, now };
    });
    expect(r.codes).toEqual(['service/error', 'service/error']);
    expect(r.next).toBe('1');
    expect(r.now).not.toBe(r.pid);
  });
});

describe("a service's manifest", () => {
  it('gives config values a plugin reads with config_get', async () => {
    expect(await call('plugin', 'config', 'greeting')).toMatchObject({ ok: true, text: 'hello from the manifest' });
    expect(await call('plugin', 'config', 'nothing')).toMatchObject({ ok: true, text: 'none' });
    expect(await call('plugin-b', 'config', 'greeting')).toMatchObject({ ok: true, text: 'none' });
  });

  it("gives the deadline of a call that sets none (plugin-b's manifest: 2 s)", async () => {
    await page.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'shortb' })), moduleBytes('plugin-b'));
    expect(await call('shortb', 'count')).toMatchObject({ ok: true, text: '1' });
    const r = await page.evaluate(async () => {
      const t0 = performance.now();
      const code = await window.kernel.call('shortb', 'spin').then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
      return { code, ms: performance.now() - t0 };
    });
    expect(r.code).toBe('kernel/timeout');
    expect(r.ms).toBeGreaterThanOrEqual(1900);
    expect(r.ms).toBeLessThan(9000);
  });

  it('is refused at install when its service field is malformed', async () => {
    const code = await page.evaluate(async (reactor) => {
      const json = new TextEncoder().encode('{"service":{"timeoutMs":-1}}');
      const name = new TextEncoder().encode('webmk.manifest');
      const body = [name.length, ...name, ...json];
      const leb = (n: number): number[] => (n < 128 ? [n] : [(n & 127) | 128, ...leb(n >> 7)]);
      const bytes = new Uint8Array([...reactor, 0, ...leb(body.length), ...body]);
      return window.kernel.install(bytes, { name: 'badservice' }).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
    }, moduleBytes('reactor'));
    expect(code).toBe('registry/invalid-manifest');
  });
});

describe('a service that traps or runs past its deadline', () => {
  it('traps: the call fails service/error, the instance is restarted fresh under its pid, the next call works', async () => {
    await installPluginAs('crasher');
    expect(await call('crasher', 'count')).toMatchObject({ ok: true, text: '1' });
    expect(await call('crasher', 'count')).toMatchObject({ ok: true, text: '2' });
    const before = await page.evaluate(() => window.kernel.processes().find((p) => p.name === 'crasher' && p.state !== 'exited'));
    const r = await call('crasher', 'crash');
    expect(r).toMatchObject({ ok: false, code: 'service/error' });
    expect(await call('crasher', 'count')).toMatchObject({ ok: true, text: '1' });
    const after = await page.evaluate(() => window.kernel.processes().find((p) => p.name === 'crasher' && p.state !== 'exited'));
    expect(after?.pid).toBe(before?.pid);
    expect(after?.state).toBe('running');
    expect(after?.restarts).toBe((before?.restarts ?? 0) + 1);
    expect(after?.lastExit?.reason).toBe('crashed');
  });

  it('loops: the call fails kernel/timeout at its deadline, a call queued behind it still runs on a fresh instance', async () => {
    await installPluginAs('spinner');
    expect(await call('spinner', 'count')).toMatchObject({ ok: true, text: '1' });
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const t0 = performance.now();
      const spin = k.call('spinner', 'spin', '', { timeoutMs: 600 }).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
      const next = k.call('spinner', 'count', '', { timeoutMs: 20_000 }).then(
        (o) => new TextDecoder().decode(o),
        (e: { code: string }) => e.code,
      );
      const spun = await spin;
      const ms = performance.now() - t0;
      return { spun, ms, next: await next };
    });
    expect(r.spun).toBe('kernel/timeout');
    expect(r.ms).toBeGreaterThanOrEqual(550);
    expect(r.next).toBe('1');
    expect(await call('spinner', 'upper', 'ok')).toMatchObject({ ok: true, text: 'OK' });
  });
});

describe('a service with a watchdog', () => {
  it('is not ended while it waits for calls; a call computing past watchdogMs ends it (service/error) and the next call meets a fresh one', async () => {
    await installPluginAs('watched');
    await page.evaluate(() => window.kernel.configure('watched', { watchdogMs: 100 }));
    expect(await call('watched', 'count')).toMatchObject({ ok: true, text: '1' });
    await page.waitForTimeout(600);
    expect(await call('watched', 'count')).toMatchObject({ ok: true, text: '2' });
    const idle = await page.evaluate(() => window.kernel.processes().find((p) => p.name === 'watched' && p.state !== 'exited'));
    expect(idle?.restarts).toBe(0);
    const r = await call('watched', 'spin', '', { timeoutMs: 20_000 });
    expect(r).toMatchObject({ ok: false, code: 'service/error' });
    expect(await call('watched', 'count')).toMatchObject({ ok: true, text: '1' });
    const after = await page.evaluate(() => window.kernel.processes().find((p) => p.name === 'watched' && p.state !== 'exited'));
    expect(after?.lastExit?.reason).toBe('watchdog-expired');
  });
});

describe('modules calling modules', () => {
  it('calls another service with the grant call:<module>', async () => {
    expect(await call('plugin', 'relay', 'plugin-b upper from a')).toMatchObject({ ok: true, text: 'FROM A' });
    expect(await call('plugin-b', 'relay', 'plugin echo from b')).toMatchObject({ ok: true, text: 'from b' });
  });

  it('without the grant gets -EACCES, and the attempt is logged as denied', async () => {
    await installPluginAs('ungranted');
    // EACCES is 2 in WASI's numbering.
    expect(await call('ungranted', 'relay', 'plugin-b upper x')).toMatchObject({ ok: true, text: 'errno 2' });
    const denied = await page.evaluate(() => window.kernel.denied().filter((d) => d.name === 'ungranted'));
    expect(denied.map((d) => d.permission)).toContain('call:plugin-b');
  });

  it('refuses the loop A -> B -> A at once with service/call-loop (EDEADLK), and both stay usable', async () => {
    const t0 = Date.now();
    // plugin relays to plugin-b, which relays back to plugin: plugin-b's call gets EDEADLK (16).
    expect(await call('plugin', 'relay', 'plugin-b relay plugin echo x')).toMatchObject({ ok: true, text: 'errno 16' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await call('plugin', 'echo', 'a')).toMatchObject({ ok: true, text: 'a' });
    expect(await call('plugin-b', 'echo', 'b')).toMatchObject({ ok: true, text: 'b' });
    // The unknown ends of a relay have their errno too: ENOENT (44), ENOSYS (52).
    expect(await call('plugin', 'relay', 'plugin-b nothing x')).toMatchObject({ ok: true, text: 'errno 52' });
  });

  it('a command calls a service with webmk_call, from a worker, the iframe mode and the page (suspended)', async () => {
    await installWith(page, 'caller', 'all');
    for (const mode of ['worker', 'iframe', 'inpage'] as const) {
      const r = await run(page, 'caller', { args: ['plugin', 'upper', `from ${mode}`], mode });
      expect(r.stdout).toBe(`FROM ${mode.toUpperCase()}\n`);
      expect(r.code).toBe(0);
    }
    // Not granted plugin-b: EACCES (2); a function plugin lacks: ENOSYS (52).
    expect((await run(page, 'caller', { args: ['plugin-b', 'echo', 'x'] })).stdout).toBe('errno 2\n');
    expect((await run(page, 'caller', { args: ['plugin', 'nothing', 'x'] })).stdout).toBe('errno 52\n');
  });

  it('answers pointers outside the caller\'s memory with EFAULT, without trapping it', async () => {
    const r = await run(page, 'caller', { args: ['--fault'] });
    expect(r.stdout).toBe('errno 21\n'.repeat(4));
    expect(r.code).toBe(0);
  });

  it("a JS module calls a service through its handle, with the grant; without it the call is kernel/denied", async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const src = (name: string) =>
        `/* webmk.manifest {"name":"${name}","version":"1.0.0","description":"calls plugin","permissions":{"call":["plugin"]}} */\n` +
        'export default async function main(w) {\n' +
        '  try { await w.print(new TextDecoder().decode(await w.call("plugin", "upper", w.args[1]))); }\n' +
        '  catch (e) { await w.print(e.code); }\n' +
        '}\n';
      await k.install(new File([src('jscaller')], 'jscaller.js'), { grant: 'all' });
      await k.install(new File([src('jsnogrant')], 'jsnogrant.js'));
      const out = async (name: string) => {
        const p = await k.spawn(name, { args: ['from js'] });
        const [text] = await Promise.all([new Response(p.stdout).text(), p.exit]);
        return text;
      };
      return { granted: await out('jscaller'), denied: await out('jsnogrant') };
    });
    expect(r).toEqual({ granted: 'FROM JS', denied: 'kernel/denied' });
  });
});
