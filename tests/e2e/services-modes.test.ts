/**
 * Service modules served in the `iframe` and `inpage` modes (ADR 0032), in real Chromium: the
 * same calls as in a worker (services.test.ts) return the same outputs and fail with the same
 * codes; an Extism plugin built with the C PDK runs as it is (linked wasm files, http_request);
 * a trap restarts the instance. A call
 * past its deadline: in the iframe mode its worker in the container is terminated, whatever it
 * computes, and a fresh instance serves the next call; on the page a call cannot be interrupted,
 * so it is refused at its next host call or at its return, and the instance is restarted fresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { installWith, run, withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

type Outcome = { ok: true; text: string; bytes: number[] } | { ok: false; code: string; message: string };

/** Calls `module.fn(input)` from the page: the output as text and bytes, or the error's code. */
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

/** The services of these tests, each allowed to call the others. */
const SERVICES = ['plugin-b', 'loop-b', 'svc-iframe', 'svc-inpage'];

/**
 * Installs fixture `from` as `name`, configured to run in `mode`: its code as built, its manifest
 * asking for what the mode needs (run:inpage) and to call the others, all granted.
 */
async function installIn(name: string, from: string, mode: 'worker' | 'iframe' | 'inpage', service?: unknown): Promise<void> {
  const manifest = { name, version: '1.0.0', description: 'test', permissions: { call: SERVICES, run: ['inpage'] }, ...(service !== undefined ? { service } : {}) };
  await page.evaluate(
    async ([n, bytes, m]) => {
      await window.kernel.install(new Uint8Array(bytes), { name: n, grant: 'all' });
      await window.kernel.configure(n, { mode: m });
    },
    [name, withManifest(moduleBytes(from), manifest), mode] as const,
  );
}

/** The live process of service `name`. */
function live(name: string): Promise<{ pid: number; mode: string; restarts: number; lastExit?: { reason: string } } | undefined> {
  return page.evaluate((n) => window.kernel.processes().find((p) => p.name === n && p.state !== 'exited'), name);
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await installWith(page, 'plugin-b', 'all');
  await installIn('loop-b', 'plugin-b', 'worker');
  await page.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'mathlib' })), moduleBytes('mathlib'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

for (const mode of ['iframe', 'inpage'] as const) {
  const svc = `svc-${mode}`;
  describe(`a service in the ${mode} mode`, () => {
    beforeAll(async () => {
      await installIn(svc, 'plugin', mode);
    });

    it('returns the output bytes, and runs as a process of that mode', async () => {
      expect(await call(svc, 'echo', [0, 1, 2, 255, 128])).toMatchObject({ ok: true, bytes: [0, 1, 2, 255, 128] });
      expect(await call(svc, 'upper', `hello, ${mode}`)).toMatchObject({ ok: true, text: `HELLO, ${mode.toUpperCase()}` });
      expect(await call(svc, 'echo')).toMatchObject({ ok: true, bytes: [] });
      expect((await live(svc))?.mode).toBe(mode);
    });

    it('runs calls one at a time, in the order they came', async () => {
      const outs = await page.evaluate(async (n) => {
        const all = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((p) => window.kernel.call(n, 'append', p)));
        return all.map((o) => new TextDecoder().decode(o));
      }, svc);
      expect(outs).toEqual(['a', 'ab', 'abc', 'abcd', 'abcde']);
    });

    it('runs the Extism C PDK example (count_vowels) as it is built', async () => {
      await installIn(`vowels-${mode}`, 'vowels', mode);
      expect(await call(`vowels-${mode}`, 'count_vowels', 'Hello, World!')).toMatchObject({ ok: true, text: '{"count": 3, "total": 3, "vowels": "aeiouAEIOU"}' });
      expect(await call(`vowels-${mode}`, 'count_vowels', 'aaa')).toMatchObject({ ok: true, text: '{"count": 3, "total": 6, "vowels": "aeiouAEIOU"}' });
      expect((await live(`vowels-${mode}`))?.mode).toBe(mode);
    });

    it('links the wasm files its manifest names (calc links mathlib as math)', async () => {
      await installIn(`calc-${mode}`, 'calc', mode, { wasm: [{ name: 'math', module: 'mathlib' }] });
      expect(await call(`calc-${mode}`, 'sum', '2 3')).toMatchObject({ ok: true, text: '5' });
      expect(await call(`calc-${mode}`, 'product', '-4 5')).toMatchObject({ ok: true, text: '-20' });
      expect((await live(`calc-${mode}`))?.mode).toBe(mode);
    });

    it('http_request fetches through the kernel from a granted host, and a refused host ends the instance', async () => {
      const name = `fetch-${mode}`;
      await installIn(name, 'pdkprobe', mode, { allowed_hosts: ['127.0.0.*'] });
      const url = new URL(server.url);
      expect(await call(name, 'fetch', `${url.origin}/app/no-such-file-${mode}`)).toMatchObject({ ok: true, text: '404 not found' });
      expect(server.requests).toContain(`/app/no-such-file-${mode}`);
      expect(await call(name, 'fetch', `http://localhost:${url.port}/app/never-sent-${mode}`)).toMatchObject({ ok: false, code: 'service/host-not-allowed' });
      expect(server.requests.filter((r) => r.includes('never-sent'))).toEqual([]);
      expect(await call(name, 'greet', 'again')).toMatchObject({ ok: true, text: 'Hello, again!' });
    });

    it("fails service/memory-exceeded past its manifest's memory.max_pages, and the next call meets a fresh instance", async () => {
      const name = `small-${mode}`;
      await installIn(name, 'pdkprobe', mode, { memory: { max_pages: 8 } });
      expect(await call(name, 'grow', '2')).toMatchObject({ ok: true, text: '5' });
      expect(await call(name, 'grow', '10')).toMatchObject({ ok: false, code: 'service/memory-exceeded' });
      expect(await call(name, 'hold', '600000')).toMatchObject({ ok: false, code: 'service/memory-exceeded' });
      expect(await call(name, 'greet', 'after')).toMatchObject({ ok: true, text: 'Hello, after!' });
    });

    it('reports error_set as service/error with its message, and an unknown function as service/no-such-function; it stays usable', async () => {
      expect(await call(svc, 'fail', 'x')).toMatchObject({ ok: false, code: 'service/error', message: 'plugin says no' });
      expect(await call(svc, 'no_such_function')).toMatchObject({ ok: false, code: 'service/no-such-function' });
      expect(await call(svc, 'upper', 'still here')).toMatchObject({ ok: true, text: 'STILL HERE' });
    });

    it('calls another service with webmk_call from inside a call (blocking in the iframe, suspended on the page)', async () => {
      expect(await call(svc, 'relay', 'plugin-b upper from a call')).toMatchObject({ ok: true, text: 'FROM A CALL' });
      // Not granted call:plugin: EACCES (2), answered as in a worker.
      expect(await call(svc, 'relay', 'plugin echo x')).toMatchObject({ ok: true, text: 'errno 2' });
    });

    it('with a watchdog: idle is not computing; a call computing past watchdogMs ends it (service/error, watchdog-expired)', async () => {
      const name = `watched-${mode}`;
      await installIn(name, 'plugin', mode);
      await page.evaluate(([n, m]) => window.kernel.configure(n, { mode: m, watchdogMs: 100 }), [name, mode] as const);
      expect(await call(name, 'count')).toMatchObject({ ok: true, text: '1' });
      await page.waitForTimeout(400);
      expect(await call(name, 'count')).toMatchObject({ ok: true, text: '2' });
      // Computing without a host call: ended in the container; on the page, refused at its return.
      const r = mode === 'iframe' ? await call(name, 'spin', '', { timeoutMs: 20_000 }) : await call(name, 'grind', '400000000', { timeoutMs: 20_000 });
      expect(r).toMatchObject({ ok: false, code: 'service/error' });
      expect(await call(name, 'count')).toMatchObject({ ok: true, text: '1' });
      expect((await live(name))?.lastExit?.reason).toBe('watchdog-expired');
    });

    it('traps: the call fails service/error and the next call meets a fresh instance under the same pid', async () => {
      expect(await call(svc, 'count')).toMatchObject({ ok: true });
      const before = await live(svc);
      expect(await call(svc, 'crash')).toMatchObject({ ok: false, code: 'service/error' });
      expect(await call(svc, 'count')).toMatchObject({ ok: true, text: '1' });
      const after = await live(svc);
      expect(after?.pid).toBe(before?.pid);
      expect(after?.restarts).toBe((before?.restarts ?? 0) + 1);
      expect(after?.lastExit?.reason).toBe('crashed');
    });
  });
}

describe('a call past its deadline in the iframe mode', () => {
  it('terminates the instance whatever it computes; a call queued behind it runs on a fresh one, in the same container', async () => {
    const svc = 'svc-iframe';
    expect(await call(svc, 'count')).toMatchObject({ ok: true });
    const before = await live(svc);
    const r = await page.evaluate(async (n) => {
      const k = window.kernel;
      const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      const spin = code(k.call(n, 'spin', '', { timeoutMs: 600 }));
      const next = k.call(n, 'count', '', { timeoutMs: 20_000 }).then(
        (o) => new TextDecoder().decode(o),
        (e: { code: string }) => e.code,
      );
      return { spun: await spin, next: await next, frames: k.resources().hosts.iframe.frames };
    }, svc);
    expect(r).toEqual({ spun: 'kernel/timeout', next: '1', frames: 1 });
    const after = await live(svc);
    expect(after?.pid).toBe(before?.pid);
    expect(after?.restarts).toBe((before?.restarts ?? 0) + 1);
    expect(after?.lastExit?.reason).toBe('killed');
  });
});

describe('a call past its deadline on the page (inpage)', () => {
  const svc = 'svc-inpage';

  it('is refused kernel/timeout at its next host call; the instance is restarted fresh and serves the next call', async () => {
    expect(await call(svc, 'count')).toMatchObject({ ok: true });
    const before = await live(svc);
    const r = await page.evaluate(async (n) => {
      const k = window.kernel;
      const busy = k.call(n, 'busy', '', { timeoutMs: 300 }).then(() => 'ok', (e: { code: string }) => e.code);
      const next = k.call(n, 'count', '', { timeoutMs: 20_000 }).then(
        (o) => new TextDecoder().decode(o),
        (e: { code: string }) => e.code,
      );
      return { busy: await busy, next: await next };
    }, svc);
    expect(r).toEqual({ busy: 'kernel/timeout', next: '1' });
    const after = await live(svc);
    expect(after?.pid).toBe(before?.pid);
    expect(after?.restarts).toBe((before?.restarts ?? 0) + 1);
  });

  it('a call that computes past its deadline without a host call is refused kernel/timeout when it returns, and the instance restarted', async () => {
    expect(await call(svc, 'count')).toMatchObject({ ok: true });
    // Far more turns than 20 ms allow; it returns by itself (the page waits for it: nothing can interrupt it).
    expect(await call(svc, 'grind', '400000000', { timeoutMs: 20 })).toMatchObject({ ok: false, code: 'kernel/timeout' });
    expect(await call(svc, 'count')).toMatchObject({ ok: true, text: '1' });
    expect(await call(svc, 'grind', '1000', { timeoutMs: 20_000 })).toMatchObject({ ok: true, text: 'done' });
  });
});

describe('services calling services across modes', () => {
  it('a service on the page and one in the container call each other, blocking or suspended', async () => {
    expect(await call('svc-inpage', 'relay', 'svc-iframe upper page to frame')).toMatchObject({ ok: true, text: 'PAGE TO FRAME' });
    expect(await call('svc-iframe', 'relay', 'svc-inpage upper frame to page')).toMatchObject({ ok: true, text: 'FRAME TO PAGE' });
  });

  it('refuses a loop through them at once with service/call-loop (EDEADLK, 16), and all stay usable', async () => {
    // svc-X -> loop-b (a worker) -> svc-X; and svc-iframe -> svc-inpage -> svc-iframe.
    expect(await call('svc-iframe', 'relay', 'loop-b relay svc-iframe echo x')).toMatchObject({ ok: true, text: 'errno 16' });
    expect(await call('svc-inpage', 'relay', 'loop-b relay svc-inpage echo x')).toMatchObject({ ok: true, text: 'errno 16' });
    expect(await call('svc-iframe', 'relay', 'svc-inpage relay svc-iframe echo x')).toMatchObject({ ok: true, text: 'errno 16' });
    for (const s of ['svc-iframe', 'svc-inpage', 'loop-b']) expect(await call(s, 'echo', s)).toMatchObject({ ok: true, text: s });
  });

  it('a call suspended on the page in a nested call is refused kernel/timeout at its deadline, and the instance restarted', async () => {
    expect(await call('svc-inpage', 'count')).toMatchObject({ ok: true });
    // loop-b spins; the page's own call passes its deadline while it waits, suspended.
    expect(await call('svc-inpage', 'relay', 'loop-b spin x', { timeoutMs: 400 })).toMatchObject({ ok: false, code: 'kernel/timeout' });
    expect(await call('svc-inpage', 'count')).toMatchObject({ ok: true, text: '1' });
  });
});

describe('a service in the container killed mid-call', () => {
  it('fails its running and queued calls with service/error; the next call starts a new process', async () => {
    await installIn('kill-iframe', 'plugin', 'iframe');
    expect(await call('kill-iframe', 'count')).toMatchObject({ ok: true, text: '1' });
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const pid = k.processes().find((p) => p.name === 'kill-iframe' && p.state !== 'exited')?.pid ?? -1;
      const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      const spin = code(k.call('kill-iframe', 'spin', '', { timeoutMs: 20_000 }));
      const queued = code(k.call('kill-iframe', 'count', '', { timeoutMs: 20_000 }));
      await new Promise((ok) => setTimeout(ok, 200));
      await k.kill(pid);
      const codes = [await spin, await queued];
      const next = new TextDecoder().decode(await k.call('kill-iframe', 'count'));
      return { codes, next };
    });
    expect(r).toEqual({ codes: ['service/error', 'service/error'], next: '1' });
  });
});

describe('a command calling a service in another mode', () => {
  it('a command in a worker and one in the iframe mode call the services on the page and in the container', async () => {
    const manifest = { name: 'caller', version: '1.0.0', description: 'test', permissions: { call: ['svc-iframe', 'svc-inpage'] } };
    await page.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'caller', grant: 'all' })), withManifest(moduleBytes('caller'), manifest));
    const outs: string[] = [];
    for (const mode of ['worker', 'iframe'] as const) {
      for (const svc of ['svc-iframe', 'svc-inpage']) {
        outs.push((await run(page, 'caller', { args: [svc, 'upper', `${mode} to ${svc}`], mode })).stdout);
      }
    }
    expect(outs).toEqual(['WORKER TO SVC-IFRAME\n', 'WORKER TO SVC-INPAGE\n', 'IFRAME TO SVC-IFRAME\n', 'IFRAME TO SVC-INPAGE\n']);
  });
});
