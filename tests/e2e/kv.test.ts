/**
 * The key-value store in real Chromium: the page's verbs with their limits and codes, atomic and
 * compare-and-set writes, persistence across a reload, watchers on the page (and the rule that a
 * notification may not re-enter the store), a wasm module and a JS module reading, writing and
 * watching with their grants (refused and logged without), and a change in one tab reaching the
 * watchers of another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, waitForKernel, type StaticServer, type TestBrowser } from './harness';
import { installWith, run, startBackground, waitExit, waitOutput } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

/** Runs `kernel.kv.<verb>(...args)` on the page; a Uint8Array comes back as `{ bytes }`. */
function kv(p: Page, verb: 'get' | 'set' | 'delete' | 'keys' | 'groups', ...args: unknown[]): Promise<Outcome> {
  return p.evaluate(
    async ([v, a]) => {
      const fix = (x: unknown): unknown => (x !== null && typeof x === 'object' && 'bytes' in x ? new Uint8Array((x as { bytes: number[] }).bytes) : x);
      try {
        const fn = window.kernel.kv[v] as (...xs: unknown[]) => Promise<unknown>;
        const value = await fn.apply(window.kernel.kv, a.map(fix));
        return { ok: true as const, value: value instanceof Uint8Array ? { bytes: [...value] } : value };
      } catch (e) {
        return { ok: false as const, code: (e as { code: string }).code };
      }
    },
    [verb, args] as const,
  );
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the page', () => {
  it('stores text and bytes, lists keys sorted, deletes, and keeps them across a reload', async () => {
    expect(await kv(page, 'set', 'prefs', 'theme', 'dark')).toEqual({ ok: true, value: undefined });
    expect(await kv(page, 'set', 'prefs', 'blob', { bytes: [0, 255, 7] })).toMatchObject({ ok: true });
    expect(await kv(page, 'get', 'prefs', 'theme')).toEqual({ ok: true, value: 'dark' });
    expect(await kv(page, 'get', 'prefs', 'blob')).toEqual({ ok: true, value: { bytes: [0, 255, 7] } });
    expect(await kv(page, 'get', 'prefs', 'none')).toEqual({ ok: true, value: undefined });
    expect(await kv(page, 'set', 'prefs', 'gone', 'x')).toMatchObject({ ok: true });
    expect(await kv(page, 'keys', 'prefs')).toEqual({ ok: true, value: ['blob', 'gone', 'theme'] });
    expect(await kv(page, 'delete', 'prefs', 'gone')).toEqual({ ok: true, value: true });
    expect(await kv(page, 'delete', 'prefs', 'gone')).toEqual({ ok: true, value: false });
    await page.reload();
    await waitForKernel(page);
    expect(await kv(page, 'get', 'prefs', 'theme')).toEqual({ ok: true, value: 'dark' });
    expect(await kv(page, 'groups')).toMatchObject({ ok: true, value: [{ group: 'prefs', count: 2 }] });
  });

  it('refuses bad names and sizes with codes, and a group past its quota keeps what it held', async () => {
    expect(await kv(page, 'set', 'no spaces', 'k', 'v')).toEqual({ ok: false, code: 'kv/invalid-name' });
    expect(await kv(page, 'set', 'g', '', 'v')).toEqual({ ok: false, code: 'kv/invalid-name' });
    expect(await kv(page, 'set', 'g', 'a\nb', 'v')).toEqual({ ok: false, code: 'kv/invalid-name' });
    expect(await kv(page, 'set', 'g', 'k'.repeat(257), 'v')).toEqual({ ok: false, code: 'kv/too-large' });
    expect(await kv(page, 'set', 'g', 'k', 7)).toEqual({ ok: false, code: 'kernel/bad-argument' });
    const quota = await page.evaluate(async () => {
      const mib = new Uint8Array(1024 * 1024);
      const codes: string[] = [];
      try {
        await window.kernel.kv.set('big', 'over', new Uint8Array(mib.length + 1));
      } catch (e) {
        codes.push((e as { code: string }).code);
      }
      // 16 MiB of quota: 15 whole values and their keys fit, the 16th value does not.
      let stored = 0;
      for (let i = 0; i < 17; i++) {
        try {
          await window.kernel.kv.set('big', `v${i}`, mib);
          stored++;
        } catch (e) {
          codes.push((e as { code: string }).code);
          break;
        }
      }
      const keys = await window.kernel.kv.keys('big');
      return { codes, stored, keys: keys.length };
    });
    expect(quota).toEqual({ codes: ['kv/too-large', 'kv/quota'], stored: 15, keys: 15 });
  });

  it('compare-and-set: stores only over the expected value, or only when absent', async () => {
    expect(await kv(page, 'set', 'cas', 'k', 'one', { expect: null })).toMatchObject({ ok: true });
    expect(await kv(page, 'set', 'cas', 'k', 'two', { expect: null })).toEqual({ ok: false, code: 'kv/conflict' });
    expect(await kv(page, 'set', 'cas', 'k', 'two', { expect: 'zero' })).toEqual({ ok: false, code: 'kv/conflict' });
    expect(await kv(page, 'set', 'cas', 'k', 'two', { expect: 'one' })).toMatchObject({ ok: true });
    expect(await kv(page, 'get', 'cas', 'k')).toEqual({ ok: true, value: 'two' });
  });

  it('tells watchers which keys changed, refuses a call from inside the notification, and stops after unwatch', async () => {
    const seen = await page.evaluate(async () => {
      const calls: string[] = [];
      let refused = '';
      let deferred: Promise<unknown> = Promise.resolve();
      const stop = window.kernel.kv.watch('w', (keys, group) => {
        calls.push(`${group}:${keys.join(',')}`);
        window.kernel.kv.get('w', 'a').catch((e: { code: string }) => (refused = e.code));
        deferred = Promise.resolve().then(() => window.kernel.kv.get('w', 'a'));
      });
      const all: string[] = [];
      const stopAll = window.kernel.kv.watch('*', (keys, group) => all.push(`${group}:${keys.join(',')}`));
      await window.kernel.kv.set('w', 'a', '1');
      await window.kernel.kv.set('other', 'x', '1');
      await window.kernel.kv.delete('w', 'a');
      const later = await deferred;
      stop();
      stopAll();
      await window.kernel.kv.set('w', 'b', '2');
      return { calls, all, refused, later: later ?? null };
    });
    expect(seen).toEqual({ calls: ['w:a', 'w:a'], all: ['w:a', 'other:x', 'w:a'], refused: 'kv/reentrant', later: null });
  });
});

describe('modules', () => {
  it('a wasm module reads, writes, compares-and-sets and lists its granted group', async () => {
    await installWith(page, 'kv', 'all');
    expect((await run(page, 'kv', { args: ['set', 'greeting', 'hello from wasm'] })).code).toBe(0);
    const bytes = await kv(page, 'get', 'notes', 'greeting');
    expect(bytes).toEqual({ ok: true, value: { bytes: [...new TextEncoder().encode('hello from wasm')] } });
    await kv(page, 'set', 'notes', 'fromPage', 'text from the page');
    expect((await run(page, 'kv', { args: ['get', 'fromPage'] })).stdout).toBe('text from the page\n');
    expect((await run(page, 'kv', { args: ['get', 'missing'] })).stderr).toContain('No such file');
    expect((await run(page, 'kv', { args: ['keys'] })).stdout).toBe('fromPage\ngreeting\n');
    expect((await run(page, 'kv', { args: ['cas', 'fromPage', 'wrong', 'x'] })).stdout).toBe('conflict\n');
    expect((await run(page, 'kv', { args: ['cas', 'fromPage', 'text from the page', 'swapped'] })).code).toBe(0);
    expect((await run(page, 'kv', { args: ['cas', 'fresh', '-', 'first'] })).code).toBe(0);
    expect((await run(page, 'kv', { args: ['del', 'fresh'] })).stdout).toBe('deleted\n');
    expect(await kv(page, 'get', 'notes', 'fromPage')).toEqual({ ok: true, value: { bytes: [...new TextEncoder().encode('swapped')] } });
    // The same imports in a sandboxed frame's worker.
    expect((await run(page, 'kv', { args: ['get', 'fromPage'], mode: 'iframe' })).stdout).toBe('swapped\n');
  });

  it('a wasm module blocked in webmk_kv_next wakes on the page\'s changes', async () => {
    const pid = await startBackground(page, 'kv', ['watch', '2']);
    await waitOutput(page, pid, 'watching');
    // The watch is in place once "watching" is printed; the first change may still race the
    // module's first kv_next, which is why changes are kept for it, not only handed to a waiter.
    await kv(page, 'set', 'notes', 'one', '1');
    await kv(page, 'set', 'notes', 'two', '2');
    expect(await waitExit(page, pid)).toBe(0);
    const out = await page.evaluate((p) => (window as unknown as { __out: Record<number, string> }).__out[p] ?? '', pid);
    expect(out).toBe('watching\nnotes\tone\nnotes\ttwo\n');
  });

  it('without grants a module is refused (EACCES) and the attempt is logged', async () => {
    await installWith(page, 'kv', undefined);
    const r = await run(page, 'kv', { args: ['keys'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('grant kv:read:notes');
    const denied = await page.evaluate(() => window.kernel.denied().map((d) => `${d.name} ${d.permission}`));
    expect(denied).toContain('kv kv:read:notes');
    // Read alone: reading works, writing is refused and logged as a write.
    await installWith(page, 'kv', ['kv:read:notes']);
    expect((await run(page, 'kv', { args: ['get', 'greeting'] })).stdout).toBe('hello from wasm\n');
    const set = await run(page, 'kv', { args: ['set', 'greeting', 'overwritten'] });
    expect(set.code).toBe(1);
    expect(await page.evaluate(() => window.kernel.denied().map((d) => d.permission))).toContain('kv:write:notes');
    expect(await kv(page, 'get', 'notes', 'greeting')).toEqual({ ok: true, value: { bytes: [...new TextEncoder().encode('hello from wasm')] } });
  });

  it('a JS module bumps a counter with compare-and-set and watches the group', async () => {
    await installWith(page, 'kvnotes', 'all');
    const first = await run(page, 'kvnotes', { args: ['bump'] });
    const second = await run(page, 'kvnotes', { args: ['bump'] });
    expect([first.stdout, second.stdout]).toEqual(['1\n', '2\n']);
    const pid = await startBackground(page, 'kvnotes', ['watch', '1']);
    await waitOutput(page, pid, 'watching');
    await kv(page, 'set', 'notes', 'note', 'hi');
    expect(await waitExit(page, pid)).toBe(0);
    expect(await waitOutput(page, pid, 'note=hi')).toBe('watching\nnote=hi\n');
  });

  it('a JS module watching two groups at once gets each group\'s changes in its own watch', async () => {
    const src = `/* webmk.manifest { "name": "kvtwo", "version": "1.0.0", "description": "two watches",
      "permissions": { "kv": ["read:ga", "read:gb"] } } */
    export default async function main(webmk) {
      const a = await webmk.kv.watch('ga');
      const b = await webmk.kv.watch('gb');
      await webmk.print('watching\\n');
      const first = async (w) => { for await (const c of w) return c.group + ':' + c.keys.join(','); };
      const [x, y] = await Promise.all([first(a), first(b)]);
      await webmk.print(x + ' ' + y + '\\n');
    }`;
    await page.evaluate((text) => window.kernel.install(new TextEncoder().encode(text), { name: 'kvtwo', grant: 'all' }), src);
    const pid = await startBackground(page, 'kvtwo', []);
    await waitOutput(page, pid, 'watching');
    await kv(page, 'set', 'gb', 'kb', '1');
    await kv(page, 'set', 'ga', 'ka', '1');
    expect(await waitExit(page, pid)).toBe(0);
    expect(await waitOutput(page, pid, 'ga:ka')).toBe('watching\nga:ka gb:kb\n');
    // Every module that watched has ended: nothing of their watches is left.
    expect(await page.evaluate(() => window.kernel.resources().capabilities.kv)).toEqual({ pageWatchers: 0, moduleWatches: 0 });
  });
});

describe('tabs', () => {
  it('a change in one tab reaches the watchers of another, which reads the new value', async () => {
    const other = await openApp(browser.context, server.url);
    await other.evaluate(() => {
      const w = window as unknown as { __kv: string[] };
      w.__kv = [];
      window.kernel.kv.watch('shared', (keys, group) => w.__kv.push(`${group}:${keys.join(',')}`));
    });
    await kv(page, 'set', 'shared', 'k', 'from the first tab');
    await other.waitForFunction(() => (window as unknown as { __kv: string[] }).__kv.length > 0);
    expect(await other.evaluate(() => (window as unknown as { __kv: string[] }).__kv)).toEqual(['shared:k']);
    expect(await kv(other, 'get', 'shared', 'k')).toEqual({ ok: true, value: 'from the first tab' });
    await other.close();
  });
});
