/** Pipelines: ring buffers shared directly by neighbouring stages' workers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  await install(page, 'cat', 'wc', 'hello', 'pipetool');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface StageResult {
  code: number;
  reason: string | undefined;
  stderr: string;
}

/** Runs a pipeline from the page; returns the last stage's output and every stage's end. */
function pipeline(p: Page, stages: Array<{ name: string; args?: string[] }>, stdin?: { random: number } | { text: string }) {
  return p.evaluate(
    async ([st, input]) => {
      let bytes: Uint8Array | undefined;
      let expected = '';
      if (input !== undefined && 'random' in input) {
        bytes = new Uint8Array(input.random);
        for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
        let h = 2166136261;
        for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
        expected = `${bytes.length} ${h.toString(16).padStart(8, '0')}`;
      } else if (input !== undefined) {
        bytes = new TextEncoder().encode(input.text);
      }
      const procs = await window.kernel.pipeline(st, bytes !== undefined ? { stdin: bytes } : {});
      if (bytes === undefined) await procs[0]?.stdin.close();
      const last = procs[procs.length - 1];
      if (last === undefined) throw new Error('no stages');
      const [stdout, ends] = await Promise.all([
        new Response(last.stdout).text(),
        Promise.all(
          procs.map(async (pr): Promise<StageResult> => {
            const [code, stderr] = await Promise.all([pr.exit, new Response(pr.stderr).text()]);
            return { code, stderr, reason: window.kernel.processes().find((x) => x.pid === pr.pid)?.reason };
          }),
        ),
      ]);
      return { stdout, ends, expected };
    },
    [stages, stdin] as const,
  );
}

describe('pipeline', () => {
  it('runs a | b | c and carries 64 MiB with a matching checksum', async () => {
    const r = await pipeline(page, [{ name: 'cat' }, { name: 'cat' }, { name: 'pipetool', args: ['cksum'] }], { random: 64 * 1024 * 1024 });
    expect(r.ends.map((e) => e.code)).toEqual([0, 0, 0]);
    expect(r.stdout.trim()).toBe(r.expected);
  });

  it('feeds text through cat | wc', async () => {
    const r = await pipeline(page, [{ name: 'cat' }, { name: 'wc' }], { text: 'one two\nthree\n' });
    expect(r.stdout.trim().split(/\s+/)).toEqual(['2', '3', '14']);
  });

  it('holds a fast writer back for a slow reader without losing a byte', async () => {
    // 8 MiB through a 1 MiB pipe into a reader that sleeps after every 64 KiB.
    const r = await pipeline(page, [{ name: 'pipetool', args: ['gen', String(8 * 1024 * 1024)] }, { name: 'pipetool', args: ['slowcat', '2'] }, { name: 'pipetool', args: ['cksum'] }]);
    expect(r.ends.map((e) => e.code)).toEqual([0, 0, 0]);
    const direct = await pipeline(page, [{ name: 'pipetool', args: ['gen', String(8 * 1024 * 1024)] }, { name: 'pipetool', args: ['cksum'] }]);
    expect(r.stdout).toBe(direct.stdout);
    expect(r.stdout.startsWith(`${8 * 1024 * 1024} `)).toBe(true);
  });

  it('gives the writer EPIPE when its reader exits early', async () => {
    const r = await pipeline(page, [{ name: 'pipetool', args: ['gen', String(256 * 1024 * 1024)] }, { name: 'pipetool', args: ['head', '1000'] }]);
    expect(r.stdout).toBe('head read 1000\n');
    expect(r.ends[1]?.code).toBe(0);
    expect(r.ends[0]?.stderr).toMatch(/^EPIPE after \d+\n$/);
    expect(r.ends[0]?.code).toBe(3);
  });

  it('ends the reader with end of file when the writer exits', async () => {
    const r = await pipeline(page, [{ name: 'hello', args: ['x'] }, { name: 'wc' }]);
    expect(r.ends.map((e) => e.code)).toEqual([0, 0]);
    expect(r.stdout.trim().split(/\s+/)[0]).toBe('3');
  });

  it('looks every stage up before starting any', async () => {
    const before = await page.evaluate(() => window.kernel.processes().length);
    const code = await page.evaluate(() => window.kernel.pipeline([{ name: 'cat' }, { name: 'missing' }]).catch((e: { code: string }) => e.code));
    expect(code).toBe('kernel/unknown-module');
    expect(await page.evaluate(() => window.kernel.processes().length)).toBe(before);
  });

  it('ends the stage after a killed one with end of file', async () => {
    const out = await page.evaluate(async () => {
      const [a, b] = await window.kernel.pipeline([{ name: 'cat' }, { name: 'wc' }]);
      if (a === undefined || b === undefined) throw new Error('two stages');
      const w = a.stdin.getWriter();
      await w.write(new TextEncoder().encode('x y\n'));
      await new Promise((r) => setTimeout(r, 100));
      await a.kill();
      const [text, codeB, codeA] = await Promise.all([new Response(b.stdout).text(), b.exit, a.exit]);
      return { text, codeA, codeB };
    });
    expect(out.codeA).toBe(137);
    expect(out.codeB).toBe(0);
    expect(out.text.trim().split(/\s+/)).toEqual(['1', '2', '4']);
  });
});
