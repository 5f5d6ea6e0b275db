/**
 * Transforms in real Chromium: trusted page functions rewrite a lone wasm module's bytes at
 * install, in order; the result is what is stored and run; an invalid output or a throw is
 * refused with a code and the bytes before it kept; the same input is transformed once (cached
 * by its hash); a removed transform no longer runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { run } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await page.evaluate(() => {
    const w = window as unknown as { __calls: Record<string, number> };
    w.__calls = { tag: 0, garbage: 0, throws: 0 };
    // Appends a custom section "transformed" holding the module's name: a valid rewrite.
    window.kernel.transforms.add('tag', (bytes, m) => {
      w.__calls.tag = (w.__calls.tag ?? 0) + 1;
      const enc = new TextEncoder();
      const name = enc.encode('transformed');
      const payload = enc.encode(m.name ?? '?');
      const body = [name.length, ...name, ...payload];
      return new Uint8Array([...bytes, 0, body.length, ...body]);
    });
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Installs a built module under `name`; its record's size and hash. */
function installAs(name: string, file = 'hello'): Promise<{ size: number; sha256: string }> {
  return page.evaluate(
    async ([n, bytes]) => {
      const info = await window.kernel.install(new Uint8Array(bytes), { name: n });
      const one = Array.isArray(info) ? info[0] : info;
      return { size: one?.size ?? -1, sha256: one?.sha256 ?? '' };
    },
    [name, moduleBytes(file)] as const,
  );
}

const HELLO = moduleBytes('hello').length;
/** What "tag" adds for a module named `name` (names here are short: one-byte lengths). */
const tagged = (name: string): number => HELLO + 2 + 1 + 'transformed'.length + name.length;

describe('transforms', () => {
  it('rewrite a module at install: the rewritten bytes are stored and run', async () => {
    const info = await installAs('hi');
    expect(info.size).toBe(tagged('hi'));
    expect((await run(page, 'hi', { args: ['there'] })).stdout).toContain('there');
    expect(await page.evaluate(() => window.kernel.transforms.list())).toEqual([{ name: 'tag', applied: 1, refused: 0 }]);
  });

  it('transform the same bytes once (cached by their hash)', async () => {
    await installAs('hi');
    expect(await page.evaluate(() => (window as unknown as { __calls: Record<string, number> }).__calls.tag)).toBe(1);
  });

  it('refuse an invalid output or a throw with a code, keep the bytes before it, and install', async () => {
    await page.evaluate(() => {
      window.kernel.transforms.add('garbage', () => new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9]));
      window.kernel.transforms.add('throws', () => {
        throw new Error('no');
      });
    });
    const info = await installAs('hi2');
    expect(info.size).toBe(tagged('hi2'));
    expect((await run(page, 'hi2', { args: ['kept'] })).stdout).toContain('kept');
    const seen = await page.evaluate(() => ({ list: window.kernel.transforms.list(), refusals: window.kernel.transforms.refusals().map((r) => `${r.transform} ${r.module} ${r.code}`) }));
    expect(seen.refusals).toEqual(['garbage hi2 transform/invalid-output', 'throws hi2 transform/failed']);
    expect(seen.list.map((t) => `${t.name} ${t.applied} ${t.refused}`)).toEqual(['tag 2 0', 'garbage 0 1', 'throws 0 1']);
  });

  it('no longer run once removed; a bad registration is refused', async () => {
    const removed = await page.evaluate(() => ['tag', 'garbage', 'throws', 'none'].map((n) => window.kernel.transforms.remove(n)));
    expect(removed).toEqual([true, true, true, false]);
    expect((await installAs('hi3')).size).toBe(HELLO);
    const code = await page.evaluate(() => {
      try {
        window.kernel.transforms.add('', (b) => b);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    });
    expect(code).toBe('kernel/bad-argument');
  });

  it('count-malloc (the ready transform) makes a module report its malloc calls and bytes at its end', async () => {
    await page.evaluate(() => window.kernel.transforms.add('count-malloc', window.kernel.transforms.countMalloc));
    await page.evaluate(async (b) => void (await window.kernel.install(new Uint8Array(b), { name: 'allocs' })), moduleBytes('allocs'));
    const five = await run(page, 'allocs', { args: ['5', '64'] });
    const nine = await run(page, 'allocs', { args: ['9', '64'] });
    expect(five.stdout).toBe('allocated 5 blocks (10)\n');
    const counts = (stderr: string) => {
      const m = /malloc: (\d+) calls, (\d+) bytes\n/.exec(stderr);
      expect(m, stderr).not.toBeNull();
      return [Number(m?.[1]), Number(m?.[2])];
    };
    const [c5, b5] = counts(five.stderr);
    const [c9, b9] = counts(nine.stderr);
    // Four blocks more: four more calls, their 4 x 64 bytes and four more pointers, exactly.
    expect([c9 - c5, b9 - b5]).toEqual([4, 4 * 4 + 4 * 64]);
    // Through proc_exit with a code it reports too.
    const exited = await run(page, 'allocs', { args: ['3', '8', '3'] });
    expect(exited.code).toBe(3);
    counts(exited.stderr);
    // A module with no malloc to count is installed as it was, the reason in the refusal.
    await page.evaluate(async (b) => void (await window.kernel.install(new Uint8Array(b), { name: 'plain-hello' })), moduleBytes('hello'));
    const refusal = await page.evaluate(() => window.kernel.transforms.refusals().find((r) => r.module === 'plain-hello'));
    expect(refusal).toMatchObject({ transform: 'count-malloc', code: 'transform/failed' });
    expect(refusal?.message).toContain('no function named malloc');
    expect((await run(page, 'plain-hello')).stderr).not.toContain('malloc:');
    await page.evaluate(() => window.kernel.transforms.remove('count-malloc'));
  }, 60_000);
});
