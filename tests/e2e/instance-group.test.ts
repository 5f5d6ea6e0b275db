/**
 * Instance groups in real Chromium (ADR 0033): a process that names a provider in `inProcess`
 * (spawn option or manifest) gets that service module instantiated in its own worker, and its
 * imports from it become direct calls. Checked: the answers match the kernel's path, the provider's
 * state is the group's own (not the shared service instance's), the grant is enforced, a missing
 * provider is ENOENT, a trap in the provider ends the importer with a reason naming it; a
 * service module's group lives as long as its instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { installWith } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await installWith(page, 'plugin', 'all');
  await installWith(page, 'importer', 'all');
  await installWith(page, 'importer-group', 'all');
  await installWith(page, 'groupsvc', 'all');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** EIO, EACCES, ENOENT as WASI numbers them. */
const ERRNO = { IO: 29, ACCES: 2, NOENT: 44 };

interface Ran {
  stdout: string;
  code: number;
  reason: string | undefined;
  message: string | undefined;
}

/** Runs `name` with `args` and spawn options `extra`, to its end. */
function run(name: string, args: string[], extra: Record<string, unknown> = {}): Promise<Ran> {
  return page.evaluate(
    async ([n, a, x]) => {
      const p = await window.kernel.spawn(n, { args: a, ...x });
      await p.stdin.close();
      const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exit]);
      const row = window.kernel.processes().find((r) => r.pid === p.pid);
      return { stdout, code, reason: row?.reason, message: row?.message };
    },
    [name, args, extra] as const,
  );
}

const grouped = { inProcess: ['plugin'] };

/** Calls the plugin's service instance has served since the kernel started. */
const serviceCalls = (): Promise<number> =>
  page.evaluate(() => window.kernel.serviceStats().filter((s) => s.name === 'plugin').reduce((n, s) => n + s.calls, 0));

describe('a provider linked in the importer\'s worker', () => {
  it('answers as the kernel\'s path does: output, a short buffer, config, an error', async () => {
    const cases = [['module', 'shout'], ['small', 'shout'], ['config', 'greeting'], ['fail']];
    const viaKernel = [];
    const inGroup = [];
    for (const args of cases) {
      viaKernel.push((await run('importer', args)).stdout);
      inGroup.push((await run('importer', args, grouped)).stdout);
    }
    expect(viaKernel).toEqual(['SHOUT\n', '5 SH\n', 'hello from the manifest\n', `errno ${ERRNO.IO}\n`]);
    expect(inGroup).toEqual(viaKernel);
  });

  it('is an instance of the process\'s own: its state is not the service instance\'s, nor another process\'s', async () => {
    // Through the kernel: one shared instance, whose count goes on from run to run.
    const first = (await run('importer', ['count', '2'])).stdout.trim().split('\n').map(Number);
    const second = (await run('importer', ['count', '2'])).stdout.trim().split('\n').map(Number);
    expect(second).toEqual([first[1]! + 1, first[1]! + 2]);
    const before = await serviceCalls();
    // In a group: each process counts from 1, and the service instance is not called.
    expect((await run('importer', ['count', '3'], grouped)).stdout).toBe('1\n2\n3\n');
    expect((await run('importer', ['count', '3'], grouped)).stdout).toBe('1\n2\n3\n');
    expect(await serviceCalls()).toBe(before);
    // Nor did the groups' calls move the shared instance's count.
    expect((await run('importer', ['count', '1'])).stdout).toBe(`${second[1]! + 1}\n`);
  });

  it('is what the manifest\'s inProcess names, unless the spawn says otherwise', async () => {
    const before = await serviceCalls();
    expect((await run('importer-group', ['count', '2'])).stdout).toBe('1\n2\n');
    expect(await serviceCalls()).toBe(before);
    const viaKernel = (await run('importer-group', ['count', '1'], { inProcess: [] })).stdout;
    expect(await serviceCalls()).toBe(before + 1);
    expect(viaKernel).not.toBe('1\n');
  });

  it('keeps the process from being parked: a snapshot would not hold its providers\' state', async () => {
    await page.evaluate(async (bytes) => {
      await window.kernel.install(new Uint8Array(bytes), { name: 'importer-mig', grant: 'all', migratable: true });
    }, moduleBytes('importer'));
    const got = await page.evaluate(async () => {
      const p = await window.kernel.spawn('importer-mig', { args: ['wait'], inProcess: ['plugin'] });
      const reader = p.stdout.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      let refusal = 'ok';
      try {
        await window.kernel.hibernate(p.pid);
      } catch (e) {
        refusal = `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      await p.stdin.close();
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += new TextDecoder().decode(value);
      }
      return { first, refusal, rest, code: await p.exit };
    });
    expect(got.refusal).toMatch(/^migrate\/not-migratable: .*instance group/);
    // It ran on, its provider's count with it.
    expect(got.first + got.rest).toBe('1\n2\n');
  });

  it('holds a wasm memory more in the page\'s renderer per provider, counted with its own', async () => {
    const used = await page.evaluate(async () => {
      const p = await window.kernel.spawn('importer', { args: ['wait'], inProcess: ['plugin'] });
      const reader = p.stdout.getReader();
      await reader.read();
      const running = window.kernel.memorySlots().page.used;
      await p.stdin.close();
      while (!(await reader.read()).done) {}
      await p.exit;
      return { running, ended: window.kernel.memorySlots().page.used };
    });
    expect(used.running - used.ended).toBe(2);
  });

  it('is the module it named, even where the page provides a namespace of that name', async () => {
    await page.evaluate(() => {
      (window as unknown as { __withdraw: () => void }).__withdraw = window.kernel.provide('plugin', { upper: () => 'from the page' });
    });
    try {
      expect((await run('importer', ['module', 'shout'])).stdout).toBe('from the page\n');
      expect((await run('importer', ['module', 'shout'], grouped)).stdout).toBe('SHOUT\n');
    } finally {
      await page.evaluate(() => (window as unknown as { __withdraw: () => void }).__withdraw());
    }
  });

  it('links on the page too (inpage mode)', async () => {
    expect((await run('importer', ['module', 'inpage'], { mode: 'inpage', ...grouped })).stdout).toBe('INPAGE\n');
    expect((await run('importer', ['count', '2'], { mode: 'inpage', ...grouped })).stdout).toBe('1\n2\n');
  });

  it('ends the importer when the provider traps, with a reason that names it', async () => {
    const r = await run('importer', ['crash'], grouped);
    expect(r.code).not.toBe(0);
    expect(r.reason).toBe('crashed');
    expect(r.message).toContain('"plugin".crash, linked in this process, trapped');
    // The service instance has nothing to do with it: it still answers.
    expect((await run('importer', ['module', 'after'])).stdout).toBe('AFTER\n');
  });

  it("counts the provider's computing as the importer's, for its watchdog", async () => {
    const r = await run('importer', ['spin'], { ...grouped, watchdogMs: 300 });
    expect(r.reason).toBe('watchdog-expired');
  });
});

describe('a service module with a group', () => {
  it('keeps its provider instance across its calls, ends with it, and starts fresh after', async () => {
    const got = await page.evaluate(async () => {
      const k = window.kernel;
      const text = async (fn: string): Promise<string> => {
        try {
          return new TextDecoder().decode(await k.call('groupsvc', fn));
        } catch (e) {
          return `${(e as { code: string }).code}: ${(e as Error).message}`;
        }
      };
      const plugin = (): number => k.serviceStats().filter((s) => s.name === 'plugin').reduce((n, s) => n + s.calls, 0);
      const before = plugin();
      const counts = [await text('count'), await text('count')];
      const crash = await text('crash');
      const after = await text('count');
      return { counts, crash, after, pluginCalls: plugin() - before };
    });
    expect(got.counts).toEqual(['1', '2']);
    expect(got.crash).toMatch(/^service\/error: .*"plugin"\.crash, linked in this process, trapped/);
    expect(got.after).toBe('1');
    expect(got.pluginCalls).toBe(0);
  });
});

describe('what cannot be linked in-process', () => {
  it('a provider not granted (call:<module>) is refused as through the kernel: EACCES, logged', async () => {
    await installWith(page, 'importer', ['call:hostfns']);
    try {
      expect((await run('importer', ['module', 'abc'], grouped)).stdout).toBe(`errno ${ERRNO.ACCES}\n`);
      const denied = await page.evaluate(() => window.kernel.denied().map((d) => `${d.name} ${d.permission}`));
      expect(denied).toContain('importer call:plugin');
    } finally {
      await installWith(page, 'importer', 'all');
    }
  });

  it('a provider that is not installed answers ENOENT', async () => {
    expect((await run('importer', ['nolib'], { inProcess: ['nolib'] })).stdout).toBe(`errno ${ERRNO.NOENT}\n`);
  });

  it('refuses an inProcess that is not a list of module names', async () => {
    const codes = await page.evaluate(async () => {
      const out: string[] = [];
      for (const inProcess of ['plugin', ['not a name'], [1]]) {
        try {
          await window.kernel.spawn('importer', { args: ['module', 'x'], inProcess: inProcess as never });
          out.push('ok');
        } catch (e) {
          out.push((e as { code: string }).code);
        }
      }
      return out;
    });
    expect(codes).toEqual(['kernel/bad-argument', 'kernel/bad-argument', 'kernel/bad-argument']);
  });
});
