/** The example modules: the bus source/function/sink trio, the pipeline tools, the kernel-call tools. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, installWith, output, run, startBackground, waitExit, waitOutput } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  for (const name of ['ticker', 'fahrenheit', 'logger', 'ps', 'spawner']) await installWith(page, name, 'all');
  await install(page, 'seq', 'grep', 'head', 'wc', 'sort', 'tr', 'hello');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Runs a pipeline from the page: the last stage's stdout and every stage's exit code and stderr. */
function pipeline(p: Page, stages: Array<{ name: string; args?: string[] }>) {
  return p.evaluate(async (st) => {
    const procs = await window.kernel.pipeline(st);
    await procs[0]?.stdin.close();
    const last = procs[procs.length - 1];
    if (last === undefined) throw new Error('no stages');
    const [stdout, ends] = await Promise.all([
      new Response(last.stdout).text(),
      Promise.all(procs.map(async (pr) => ({ code: await pr.exit, stderr: await new Response(pr.stderr).text() }))),
    ]);
    return { stdout, ends };
  }, stages);
}

function publish(p: Page, topic: string, text: string): Promise<void> {
  return p.evaluate(([t, m]) => window.kernel.bus.publish(t, m), [topic, text] as const);
}

describe('bus trio', () => {
  it('carries ticker readings through fahrenheit to logger', async () => {
    const logger = await startBackground(page, 'logger', ['sensors/*', '10']);
    await waitOutput(page, logger, 'listening on sensors/*');
    const fahrenheit = await startBackground(page, 'fahrenheit', ['5']);
    await waitOutput(page, fahrenheit, 'sensors/temp -> sensors/temp-f');

    const ticker = await run(page, 'ticker', { args: ['50', '5', '7'] });
    expect(ticker.code).toBe(0);
    expect(ticker.stderr).toBe('');
    const readings = [...ticker.stdout.matchAll(/^reading \d+: (-?\d+\.\d)$/gm)].map((m) => m[1] ?? '');
    expect(readings).toHaveLength(5);

    expect(await waitExit(page, fahrenheit)).toBe(0);
    expect(await waitExit(page, logger)).toBe(0);
    const converted = readings.map((c) => ((Number(c) * 9) / 5 + 32).toFixed(1));
    expect(await output(page, fahrenheit)).toBe(
      ['fahrenheit: sensors/temp -> sensors/temp-f', ...readings.map((c, i) => `${c} C -> ${converted[i]} F`), ''].join('\n'),
    );
    // The two topics interleave in any order; each keeps its own.
    const log = (await output(page, logger)).trim().split('\n');
    expect(log[0]).toBe('logger: listening on sensors/*');
    expect(log.filter((l) => l.startsWith('sensors/temp: '))).toEqual(readings.map((c) => `sensors/temp: ${c}`));
    expect(log.filter((l) => l.startsWith('sensors/temp-f: '))).toEqual(converted.map((f) => `sensors/temp-f: ${f}`));
    expect(log).toHaveLength(11);
  });

  it('gives the same readings for the same seed', async () => {
    const a = await run(page, 'ticker', { args: ['0', '20', '42'] });
    const b = await run(page, 'ticker', { args: ['0', '20', '42'] });
    const c = await run(page, 'ticker', { args: ['0', '20', '43'] });
    expect(a.stdout.split('\n')).toHaveLength(21);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('obeys pause, resume, rate and stop on control/ticker', async () => {
    // A period of a minute: only a rate message lets it reach reading 3 during the test.
    const pid = await startBackground(page, 'ticker', ['60000', '0']);
    await waitOutput(page, pid, 'reading 1:');
    await publish(page, 'control/ticker', 'rate 20');
    await waitOutput(page, pid, 'reading 3:');
    await publish(page, 'control/ticker', 'pause');
    const paused = await waitOutput(page, pid, 'paused');
    await page.waitForTimeout(200);
    const after = await output(page, pid);
    expect(after).toBe(paused);
    await publish(page, 'control/ticker', 'resume');
    const resumed = (await waitOutput(page, pid, 'resumed')).split('\n').filter((l) => l.startsWith('reading')).length;
    await waitOutput(page, pid, `reading ${resumed + 2}:`);
    await publish(page, 'control/ticker', 'stop');
    expect(await waitExit(page, pid)).toBe(0);
    expect(await output(page, pid)).toMatch(/^reading 1: .*\nrate 20 ms\n(.*\n)*paused\nresumed\n(.*\n)*stopped\n$/);
  });

  it('says which grant is missing, and keeps ticking', async () => {
    await installWith(page, 'ticker', []);
    const r = await run(page, 'ticker', { args: ['0', '3'] });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('reading'))).toHaveLength(3);
    expect(r.stderr).toContain('grant publish:sensors/temp');
    await installWith(page, 'ticker', 'all');
  });
});

describe('pipeline tools', () => {
  it('runs seq 1 100 | grep 7 | wc', async () => {
    const r = await pipeline(page, [{ name: 'seq', args: ['1', '100'] }, { name: 'grep', args: ['7'] }, { name: 'wc' }]);
    expect(r.ends.map((e) => e.code)).toEqual([0, 0, 0]);
    expect(r.stdout).toBe('     19      19      56\n');
  });

  it('ends the writer quietly with exit 1 when head has had enough', async () => {
    const r = await pipeline(page, [{ name: 'seq', args: ['10000000'] }, { name: 'head', args: ['-n', '5'] }]);
    expect(r.stdout).toBe('1\n2\n3\n4\n5\n');
    expect(r.ends).toEqual([
      { code: 1, stderr: '' },
      { code: 0, stderr: '' },
    ]);
  });

  it('sorts, translates and counts', async () => {
    const r = await pipeline(page, [
      { name: 'seq', args: ['1', '3', '30'] },
      { name: 'sort', args: ['-nr'] },
      { name: 'tr', args: ['0-9', 'a-j'] },
      { name: 'grep', args: ['-c', 'b'] },
    ]);
    // 28 25 22 19 16 13 10 7 4 1: those with a 1 are 19 16 13 10 1.
    expect(r.stdout).toBe('5\n');
    const none = await pipeline(page, [{ name: 'seq', args: ['3'] }, { name: 'grep', args: ['9'] }]);
    expect(none.ends.map((e) => e.code)).toEqual([0, 1]);
  });
});

describe('kernel-call tools', () => {
  it('lists processes and spawns modules', async () => {
    const ps = await run(page, 'ps');
    expect(ps.code).toBe(0);
    expect(ps.stdout.split('\n')[0]).toMatch(/^\s+PID NAME\s+STATE$/);
    expect(ps.stdout).toMatch(/^\s*\d+ ps\s+running$/m);

    const spawned = await run(page, 'spawner', { args: ['hello', 'a', 'b'] });
    expect(spawned.code).toBe(0);
    const pid = Number(/^started hello as pid (\d+)$/m.exec(spawned.stdout)?.[1]);
    await page.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', pid);
    expect((await page.evaluate(() => window.kernel.processes())).find((x) => x.pid === pid)?.args).toEqual(['hello', 'a', 'b']);

    const missing = await run(page, 'spawner', { args: ['nope'] });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('spawner: nope: no such module\n');
  });
});
