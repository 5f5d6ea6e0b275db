/**
 * Extism's host functions (`extism:host/user`, ADR 0035) in real Chromium: a plugin built with
 * Extism's C PDK imports functions the page provides with `kernel.provide('extism:host/user',
 * ...)`; each is called with the plugin's arguments (a memory block's address, plain i64 numbers)
 * and a CurrentPlugin to read and make blocks, and its answer reaches the plugin. A missing or
 * throwing function fails the call; a plugin not granted `call:extism:host/user` is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { installWith, withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

type Outcome = { ok: true; text: string } | { ok: false; code: string; message: string; details: Record<string, unknown> };

/** Calls `module.fn(input)` from the page: the output as text, or the error's code, message and details. */
function call(module: string, fn: string, input?: string): Promise<Outcome> {
  return page.evaluate(
    async ([m, f, i]) => {
      try {
        return { ok: true as const, text: new TextDecoder().decode(await window.kernel.call(m, f, i)) };
      } catch (e) {
        const err = e as { code: string; message: string; details: Record<string, unknown> };
        return { ok: false as const, code: err.code, message: err.message, details: err.details };
      }
    },
    [module, fn, input] as const,
  );
}

/** What the page's host functions saw, in order. */
function seen(): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __seen: string[] }).__seen.splice(0));
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await installWith(page, 'hostfn', 'all');
  await page.evaluate(() => {
    const w = window as unknown as { __seen: string[]; __throw: boolean };
    w.__seen = [];
    w.__throw = false;
    window.kernel.provide('extism:host/user', {
      greet: (plugin, addr) => {
        if (w.__throw) throw new Error('greet broke on purpose');
        const name = plugin.readString(addr) ?? '(no block)';
        w.__seen.push(`greet ${typeof addr} ${plugin.length(addr as bigint)} ${name} by ${plugin.caller.name}`);
        return plugin.store(`Hello, ${name}!`);
      },
      add: (_plugin, a, b) => {
        w.__seen.push(`add ${typeof a} ${String(a)} ${String(b)}`);
        return (a as bigint) + (b as bigint);
      },
    });
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('host functions the page provides', () => {
  it('asks for call:extism:host/user at install, from its imports', async () => {
    const requested = await page.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'hostfn')?.requested);
    expect(requested).toContain('call:extism:host/user');
  });

  it("get the plugin's block by its address and answer with a block the plugin outputs", async () => {
    expect(await call('hostfn', 'greet', 'World')).toEqual({ ok: true, text: 'Hello, World!' });
    expect(await seen()).toEqual(['greet bigint 5 World by hostfn']);
    expect(await call('hostfn', 'greet', 'Ünïcode')).toEqual({ ok: true, text: 'Hello, Ünïcode!' });
    await seen();
  });

  it('get i64 numbers as BigInts, and a BigInt they return reaches the plugin', async () => {
    expect(await call('hostfn', 'twice', '21')).toEqual({ ok: true, text: '42' });
    expect(await call('hostfn', 'twice', '4611686018427387904')).toEqual({ ok: true, text: '-9223372036854775808' });
    expect(await seen()).toEqual(['add bigint 21 21', 'add bigint 4611686018427387904 4611686018427387904']);
  });

  it('one the page does not provide fails the call service/error, naming it', async () => {
    const r = await call('hostfn', 'missing');
    expect(r).toMatchObject({ ok: false, code: 'service/error', details: { hostFunction: 'nothing_here' } });
    expect(r.ok ? '' : r.message).toContain('extism:host/user.nothing_here');
    // The instance that trapped is replaced: the next call works.
    expect(await call('hostfn', 'twice', '2')).toEqual({ ok: true, text: '4' });
    await seen();
  });

  it("one that throws fails the call service/error with the function's message", async () => {
    await page.evaluate(() => ((window as unknown as { __throw: boolean }).__throw = true));
    const r = await call('hostfn', 'greet', 'World');
    await page.evaluate(() => ((window as unknown as { __throw: boolean }).__throw = false));
    expect(r).toMatchObject({ ok: false, code: 'service/error', details: { hostFunction: 'greet' } });
    expect(r.ok ? '' : r.message).toContain('greet broke on purpose');
    expect(await call('hostfn', 'greet', 'again')).toEqual({ ok: true, text: 'Hello, again!' });
    await seen();
  });

  it('a plugin not granted call:extism:host/user is refused kernel/denied, and nothing is called', async () => {
    await page.evaluate(
      async ([bytes]) => {
        await window.kernel.install(new Uint8Array(bytes), { name: 'hostfn-nogrant' });
      },
      [withManifest(moduleBytes('hostfn'), { name: 'hostfn-nogrant', version: '1.0.0', description: 'test' })] as const,
    );
    const r = await call('hostfn-nogrant', 'greet', 'World');
    expect(r).toMatchObject({ ok: false, code: 'kernel/denied', details: { permission: 'call:extism:host/user' } });
    expect(await seen()).toEqual([]);
    const denied = await page.evaluate(() => window.kernel.denied().map((d) => `${d.name} ${d.permission}`));
    expect(denied).toContain('hostfn-nogrant call:extism:host/user');
  });
});

for (const mode of ['inpage', 'iframe'] as const) {
  describe(`host functions in the ${mode} mode`, () => {
    it('answer the plugin as in a worker', async () => {
      const name = `hostfn-${mode}`;
      await page.evaluate(
        async ([n, bytes, m]) => {
          await window.kernel.install(new Uint8Array(bytes), { name: n, grant: 'all' });
          await window.kernel.configure(n, { mode: m });
        },
        [name, withManifest(moduleBytes('hostfn'), { name, version: '1.0.0', description: 'test', permissions: { run: ['inpage'] } }), mode] as const,
      );
      expect(await call(name, 'greet', mode)).toEqual({ ok: true, text: `Hello, ${mode}!` });
      expect(await call(name, 'twice', '5')).toEqual({ ok: true, text: '10' });
      expect((await seen()).map((s) => s.split(' by ')[0])).toEqual([`greet bigint ${mode.length} ${mode}`, 'add bigint 5 5']);
    });
  });
}
