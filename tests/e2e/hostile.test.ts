/**
 * The hostile suite: modules written to attack the kernel, in a real Chromium. It proves that
 * - every `webmk` import given pointers and lengths out of range (past the end of memory,
 *   wrapping ptr+len, "negative", huge) answers a negative errno, writes nothing outside the
 *   buffer it was given, and leaves the kernel running, in every execution mode; WASI calls
 *   given the same answer EFAULT instead of trapping the module;
 * - forged subscription ids, pids, window ids and module names are refused with a code, and an
 *   ungranted call shows in `kernel.denied()`;
 * - `__proto__`, `constructor` and `prototype` keys in every JSON the kernel parses (manifests,
 *   install options, grants, configurations, messages from other tabs, calls from a module's
 *   realm) are refused or ignored, and no prototype is polluted;
 * - topics, module names and bus messages at their limit pass and one past it is refused;
 * - a JS module reaches, in each mode, only what that mode is documented to give it: in the
 *   container (`iframe`) nothing of the app, no other module's messages and no other module;
 *   in a worker of the app (granted `run:worker`) the app's origin but not the page; on the
 *   page (granted `run:inpage`) the page itself.
 * The modules are modules/fixtures/hostile.c (built to tests/fixtures/hostile.wasm) and
 * modules/fixtures/hostile.js (tests/fixtures/hostile-js.js).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { heardOnAppChannel, install, installWith, leb, output, run, startBackground, waitExit, waitOutput, withManifest } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
/** Uncaught errors on the page: garbage from a module or another tab must raise none. */
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await install(page, 'hello');
  await installWith(page, 'hostile', 'all');
  await installWith(page, 'hostile-js', 'all');
  await page.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'hostile-nogrant' });
  }, moduleBytes('hostile'));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** "LABEL=RESULT" lines as a record. */
function results(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** "LABEL: RESULT" lines as a record. */
function report(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes(': '))
      .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
  );
}

/** Nothing was added to Object.prototype (or Array.prototype) on the page. */
function prototypesClean(p: Page): Promise<{ polluted: unknown; objectKeys: string[]; arrayKeys: number }> {
  return p.evaluate(() => ({
    polluted: ({} as Record<string, unknown>).polluted,
    objectKeys: Object.keys(Object.prototype),
    arrayKeys: Object.keys(Array.prototype).length,
  }));
}

describe('every webmk import, given pointers and lengths out of range', () => {
  const expected = {
    'publish.topic-past-end': 'EINVAL',
    'publish.topic-straddles-end': 'EINVAL',
    'publish.topic-wraps': 'EINVAL',
    'publish.topic-huge-len': 'EINVAL',
    'publish.data-past-end': 'EINVAL',
    'publish.data-wraps': 'EINVAL',
    'publish.data-negative-len': 'EINVAL',
    'subscribe.past-end': 'EINVAL',
    'subscribe.wraps': 'EINVAL',
    'subscribe.huge-len': 'EINVAL',
    'subscribe.valid': '0',
    'recv.cap-0-past-end': 'EMSGSIZE',
    'recv.past-end': 'EINVAL',
    'recv.straddles-end': 'EINVAL',
    'recv.wraps': 'EINVAL',
    'recv.valid': '5',
    'recv.data': 'probe',
    'recv_topic.past-end': 'EINVAL',
    'recv_topic.straddles-end': 'EINVAL',
    // Nothing to copy: the topic's length, as snprintf; a pointer beyond the end is still refused.
    'recv_topic.cap-0-at-end': '10',
    'recv_topic.cap-0-beyond-end': 'EINVAL',
    'kernel_list.past-end': 'EINVAL',
    'kernel_list.straddles-end': 'EINVAL',
    'kernel_list.wraps': 'EINVAL',
    'kernel_list.cap-0-past-end': 'length',
    'kernel_ps.past-end': 'EINVAL',
    'kernel_ps.straddles-end': 'EINVAL',
    'kernel_ps.wraps': 'EINVAL',
    'kernel_spawn.name-past-end': 'EINVAL',
    'kernel_spawn.name-huge-len': 'EINVAL',
    'kernel_spawn.args-straddle-end': 'EINVAL',
    'kernel_spawn.name-not-utf8': 'EINVAL',
    'input_poll.no-window': '0',
    'gfx_open.huge': 'EINVAL',
    'gfx_open.too-wide': 'EINVAL',
    'gfx_open.no-manifest-size': 'EINVAL',
    'gfx_close.no-window': 'EPIPE',
    'gfx_present.zero': 'EINVAL',
    'gfx_present.too-many-pixels': 'EINVAL',
    'gfx_present.past-end': 'EFAULT',
    'gfx_present.straddles-end': 'EFAULT',
    'gfx_present.wraps': 'EFAULT',
    'input_poll.past-end': 'EFAULT',
    'input_poll.huge-max': 'EFAULT',
    'gfx_close.window': '0',
    heartbeat: '0',
    canary: 'intact',
  };

  for (const mode of ['worker', 'iframe', 'inpage'] as const) {
    it(`answers each with an errno and writes nothing outside memory (${mode})`, async () => {
      const r = await page.evaluate(async (m) => {
        const k = window.kernel;
        const p = await k.spawn('hostile', { args: ['ptrs'], mode: m });
        await p.stdin.close();
        const reader = p.stdout.getReader();
        const dec = new TextDecoder();
        let out = '';
        let published = false;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          out += dec.decode(value, { stream: true });
          if (!published && out.includes('subscribed\n')) {
            k.bus.publish('hostile/in', 'probe');
            published = true;
          }
        }
        return { out, code: await p.exit, windows: k.gfx.windows().filter((w) => w.pid === p.pid).length };
      }, mode);
      expect(results(r.out)).toEqual(expected);
      expect(r.code).toBe(0);
      expect(r.windows).toBe(0);
      // The kernel runs on: a module starts and ends as usual.
      expect((await run(page, 'hello')).code).toBe(0);
    });
  }
});

describe('WASI calls, given pointers and lengths out of range', () => {
  for (const mode of ['worker', 'iframe', 'inpage'] as const) {
    it(`answer EFAULT instead of trapping the module (${mode})`, async () => {
      const r = await run(page, 'hostile', { args: ['wasi'], mode, preopens: ['/'], env: { HOSTILE: '1' } });
      expect(results(r.stdout)).toEqual({
        'fd_write.iovs-past-end': 'EFAULT',
        'fd_write.buffer-straddles-end': 'EFAULT',
        'fd_write.count-past-end': 'EFAULT',
        'fd_read.iovs-past-end': 'EFAULT',
        'fd_read.buffer-straddles-end': 'EFAULT',
        'random_get.straddles-end': 'EFAULT',
        'clock_time_get.past-end': 'EFAULT',
        'args_sizes_get.past-end': 'EFAULT',
        'args_get.past-end': 'EFAULT',
        'environ_get.past-end': 'EFAULT',
        'fd_prestat_get.past-end': 'EFAULT',
        'fd_prestat_dir_name.past-end': 'EFAULT',
        'fd_fdstat_get.past-end': 'EFAULT',
        'poll_oneoff.past-end': 'EFAULT',
        // A path that reaches past the end of memory is a fault, as any other buffer (ADR 0014).
        'path_open.path-straddles-end': 'EFAULT',
        'path_open.fd-past-end': 'EFAULT',
        canary: 'intact',
      });
      expect([r.code, r.reason]).toEqual([0, 'exited']);
    });
  }
});

describe('forged ids, pids and names', () => {
  it('a module naming subscriptions, processes and modules that are not its own is refused with codes', async () => {
    const r = await run(page, 'hostile', { args: ['ids'] });
    expect(results(r.stdout)).toEqual({
      'recv.forged': 'EBADF',
      'recv.negative': 'EBADF',
      'recv_topic.forged': 'EBADF',
      'dropped.forged': 'EBADF',
      'unsubscribe.forged': 'EBADF',
      'unsubscribe.own': '0',
      'unsubscribe.again': 'EBADF',
      'recv.closed': 'EBADF',
      'kill.zero': 'ESRCH',
      'kill.negative': 'ESRCH',
      'kill.unknown': 'ESRCH',
      'kill.max': 'ESRCH',
      'spawn.__proto__': 'ENOENT',
      'spawn.constructor': 'ENOENT',
      'spawn.hasOwnProperty': 'ENOENT',
      'spawn.unknown': 'ENOENT',
      'spawn.path': 'ENOENT',
      'spawn.control-char': 'ENOENT',
      'spawn.name-65': 'ENOENT',
    });
    expect(r.code).toBe(0);
  });

  it('an ungranted module is refused every privileged call, and each attempt is in kernel.denied()', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const p = await k.spawn('hostile-nogrant', { args: ['granted'] });
      await p.stdin.close();
      const out = await new Response(p.stdout).text();
      await p.exit;
      const denied = k.denied().filter((d) => d.pid === p.pid);
      return { out, denied: denied.map((d) => `${d.name} ${d.permission}`) };
    });
    expect(results(r.out)).toEqual({
      publish: 'EACCES',
      subscribe: 'EACCES',
      kernel_list: 'EACCES',
      kernel_ps: 'EACCES',
      kernel_spawn: 'EACCES',
      kernel_kill: 'EACCES',
    });
    expect(r.denied).toEqual([
      'hostile-nogrant publish:hostile/t',
      'hostile-nogrant subscribe:hostile/t',
      'hostile-nogrant kernel:list',
      'hostile-nogrant kernel:ps',
      'hostile-nogrant kernel:spawn',
      'hostile-nogrant kernel:kill',
    ]);
  });

  it('the page API refuses unknown pids and ignores unknown window ids', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      const bad = [999999, -1, 0, 1.5, Number.NaN, '1' as unknown as number, { valueOf: () => 1 } as unknown as number];
      return {
        kill: await Promise.all(bad.map((pid) => code(k.kill(pid)))),
        restart: await Promise.all(bad.map((pid) => code(k.restart(pid)))),
        input: bad.map((id) => k.gfx.input(id, { type: 1, x: 0, y: 0, button: 0, key: 65, mods: 0 })),
        close: await Promise.all(bad.map((id) => code(k.gfx.close(id)))),
      };
    });
    expect(r.kill).toEqual(Array(7).fill('kernel/unknown-process'));
    expect(r.restart).toEqual(Array(7).fill('kernel/unknown-process'));
    expect(r.input).toEqual(Array(7).fill(false));
    expect(r.close).toEqual(Array(7).fill('ok'));
  });

  for (const mode of ['worker', 'iframe'] as const) {
    it(`a JS module speaking its glue's protocol itself is held to its own pid and grants (${mode})`, async () => {
      // The victim: a module with a window (its manifest asks for one) that sleeps.
      const victimBytes = withManifest(moduleBytes('sleep'), { name: 'victim', canvas: { width: 64, height: 48 } });
      const victim = await page.evaluate(async (bytes) => {
        const k = window.kernel;
        await k.install(new Uint8Array(bytes), { name: 'victim' });
        const p = await k.spawn('victim', { args: ['600000'] });
        const win = k.gfx.windows().find((w) => w.pid === p.pid);
        return { pid: p.pid, window: win?.id ?? -1 };
      }, victimBytes);
      expect(victim.window).toBeGreaterThan(0);
      const pid = await page.evaluate(
        async ([m, v]) => {
          const k = window.kernel;
          const w = window as unknown as { __forge: string; __forgeExit: number | undefined };
          w.__forge = '';
          w.__forgeExit = undefined;
          const p = await k.spawn('hostile-js', { mode: m, args: ['forge', String(v.pid), String(v.window)] });
          await p.stdin.close();
          void new Response(p.stdout).text().then((t) => (w.__forge = t));
          void p.exit.then((c) => (w.__forgeExit = c));
          return p.pid;
        },
        [mode, victim] as const,
      );
      await page.waitForFunction(() => (window as unknown as { __forgeExit?: number }).__forgeExit !== undefined);
      const r = await page.evaluate(
        ([attacker, v]) => {
          const k = window.kernel;
          const w = window as unknown as { __forge: string; __forgeExit: number };
          return {
            out: w.__forge,
            exit: w.__forgeExit,
            reason: k.processes().find((p) => p.pid === attacker)?.reason,
            victim: k.processes().find((p) => p.pid === v.pid)?.state,
            window: k.gfx.windows().some((x) => x.id === v.window && x.pid === v.pid),
            denied: k.denied().filter((d) => d.pid === attacker).map((d) => d.permission),
          };
        },
        [pid, victim] as const,
      );
      expect(report(r.out)).toMatchObject({
        'call __proto__': 'ipc/unknown-call',
        'call constructor': 'ipc/unknown-call',
        'call toString': 'ipc/unknown-call',
        'subscribe with a __proto__ pattern': 'bus/invalid-topic',
        'subscribe to everything': 'bus/denied',
        'publish off its grant': 'bus/denied',
        'kill the victim': 'kernel/denied',
        'close the victim window': 'gfx/no-window',
        'resize the victim window': 'gfx/no-window',
        'close a window with a __proto__ id': 'gfx/no-window',
        // Notices: answered, and (see `denied` below) logged only when the grants bear them out.
        'log a granted publish as refused': 'ok',
        'log a kernel call as refused': 'ok',
        'log a huge entry': 'ok',
        'log a __proto__ entry': 'ok',
        'own slot': 'known',
        'unsubscribe other slots 0-63': '0 closed',
      });
      if (mode === 'worker') {
        expect(r.denied).toEqual(['subscribe:*', 'publish:secret/x', 'kernel:kill', 'kernel:list']);
        // The page answers a worker only for the process it runs: posts naming another pid are ignored.
        expect(r.out).toContain('still here');
        expect(r.exit).toBe(0);
      } else {
        // The container's relay ends a worker that names another pid (before its last call).
        expect(r.denied).toEqual(['subscribe:*', 'publish:secret/x', 'kernel:kill']);
        expect(r.out).not.toContain('still here');
        expect([r.exit, r.reason]).toEqual([134, 'crashed']);
      }
      expect(r.victim).toBe('running');
      expect(r.window).toBe(true);
      await page.evaluate((v) => window.kernel.kill(v), victim.pid);
      expect(await prototypesClean(page)).toEqual({ polluted: undefined, objectKeys: [], arrayKeys: 0 });
    });
  }
});

describe('__proto__, constructor and prototype keys in every JSON the kernel parses', () => {
  /** A manifest text with prototype keys at each level (JSON.parse makes them own properties). */
  const hostileManifest = (name: string): string =>
    `{"name": "${name}", "version": "1.0.0",
      "__proto__": {"polluted": "manifest", "permissions": {"kernel": ["kill"]}},
      "constructor": {"prototype": {"polluted": "constructor"}},
      "prototype": {"polluted": "prototype"},
      "permissions": {"__proto__": {"kernel": ["spawn"]}, "constructor": ["kill"], "prototype": ["x"], "publish": ["hostile/a"]},
      "canvas": {"__proto__": {"width": 64, "height": 48}},
      "globalTopics": ["__proto__", "constructor"]}`;

  it('in a manifest (a wasm section or a JS comment): ignored where unknown, never granted, nothing polluted', async () => {
    const wasm = withManifestText(moduleBytes('hello'), hostileManifest('proto-wasm'));
    const r = await page.evaluate(
      async ([wasm, js]) => {
        const k = window.kernel;
        const a = await k.install(new Uint8Array(wasm), { grant: 'all' });
        const b = await k.install(new File([`/* webmk.manifest ${js} */\nexport default () => 0;\n`], 'proto-js.js'), { grant: 'all' });
        const p = await k.spawn('proto-wasm', { mode: 'worker' });
        await p.stdin.close();
        const windows = k.gfx.windows().filter((w) => w.pid === p.pid).length;
        const code = await p.exit;
        return {
          wasm: { name: a.name, requested: a.requested, grants: a.grants },
          js: { name: b.name, requested: b.requested, grants: b.grants },
          windows,
          code,
          globals: k.bus.stats().globals.filter((g) => g === '__proto__' || g === 'constructor'),
        };
      },
      [wasm, hostileManifest('proto-js')] as const,
    );
    expect(r.wasm).toEqual({ name: 'proto-wasm', requested: ['publish:hostile/a'], grants: { publish: ['hostile/a'], subscribe: [], kernel: [] } });
    expect(r.js).toEqual({ name: 'proto-js', requested: ['publish:hostile/a'], grants: { publish: ['hostile/a'], subscribe: [], kernel: [] } });
    // The canvas under __proto__ is not the manifest's canvas: no window was opened.
    expect(r.windows).toBe(0);
    expect(r.code).toBe(0);
    // Topics named like prototype keys are only names.
    expect(r.globals.sort()).toEqual(['__proto__', 'constructor']);
    expect(await prototypesClean(page)).toEqual({ polluted: undefined, objectKeys: [], arrayKeys: 0 });
  });

  it('in a manifest, a prototype key standing for a required field or a grant is refused with a code', async () => {
    const codes = await page.evaluate(async () => {
      const k = window.kernel;
      const texts = [
        '{"name": "p1", "restart": {"__proto__": {"restart": "permanent"}}}',
        '{"name": "p2", "permissions": {"kernel": ["constructor"]}}',
        '{"name": "p3", "permissions": {"run": ["__proto__"]}}',
        '{"name": "p4", "permissions": {"publish": {"__proto__": ["a"]}}}',
        '{"name": "p5", "mode": "__proto__"}',
        '{"name": {"__proto__": "p6"}}',
      ];
      const out: string[] = [];
      for (const t of texts) {
        const file = new File([`/* webmk.manifest ${t} */\nexport default () => 0;\n`], 'x.js');
        out.push(await k.install(file).then(() => 'ok', (e: { code: string }) => e.code));
      }
      const names = (await k.modules()).map((m) => m.name).filter((n) => /^p\d$/.test(n) || n === 'x');
      return { out, names };
    });
    expect(codes.out).toEqual(Array(6).fill('registry/invalid-manifest'));
    expect(codes.names).toEqual([]);
  });

  it('in install options, grants and configurations: own prototype keys give nothing and are refused where checked', async () => {
    const r = await page.evaluate(async (bytes) => {
      const k = window.kernel;
      const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      const info = await k.install(new Uint8Array(bytes), JSON.parse('{"name": "proto-opts", "__proto__": {"grant": "all"}}'));
      const granted = await k.grant('proto-opts', ['__proto__:x', 'constructor', 'prototype:kernel', '__proto__']);
      const configs = [
        '{"__proto__": {"autostart": true}}',
        '{"constructor": {"prototype": {"autostart": true}}}',
        '{"prototype": 1}',
        '{"restart": {"__proto__": {"restart": "permanent"}}}',
        '{"restart": {"restart": "transient", "backoff": {"__proto__": {"factor": 0}}}}',
        '{"mode": "__proto__"}',
      ];
      const refused = [];
      for (const c of configs) refused.push(await code(k.configure('proto-opts', JSON.parse(c))));
      const stored = (await k.modules()).find((m) => m.name === 'proto-opts')?.config;
      return { grants: info.grants, granted: granted.grants, refused, stored };
    }, moduleBytes('hostile'));
    const none = { publish: [], subscribe: [], kernel: [] };
    expect(r.grants).toEqual(none);
    expect(r.granted).toEqual(none);
    // The backoff's __proto__ is not a factor: that configuration is valid and stored as given.
    expect(r.refused).toEqual(['kernel/bad-argument', 'kernel/bad-argument', 'kernel/bad-argument', 'kernel/bad-argument', 'ok', 'kernel/bad-argument']);
    expect(r.stored).toEqual({ restart: { restart: 'transient', backoff: {} } });
    expect(await prototypesClean(page)).toEqual({ polluted: undefined, objectKeys: [], arrayKeys: 0 });
  });

  it("in messages from other tabs on the app's channels: only well-formed ones count, nothing throws", async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const scope = new URL('./', location.href).pathname;
      k.bus.declareGlobal('hostile/g/*');
      const got: string[] = [];
      const unsubscribe = k.bus.subscribe('hostile/g/*', (data, topic) => got.push(`${topic} ${new TextDecoder().decode(data)}`));
      const bus = new BroadcastChannel(`webmk:${scope}:bus`);
      const registry = new BroadcastChannel(`webmk:${scope}:registry`);
      const data = (s: string) => new TextEncoder().encode(s);
      const from = 'another-tab';
      bus.postMessage({ type: 'message', tab: from, topic: 'hostile/g/a', data: data('first') });
      for (const m of [
        JSON.parse('{"__proto__": {"type": "message", "topic": "hostile/g/a"}, "tab": "x"}'),
        { ...JSON.parse('{"__proto__": {"data": 1}}'), type: 'message', tab: from, topic: 'hostile/g/a' },
        { type: 'message', tab: from, topic: '__proto__', data: data('proto') },
        { type: 'message', tab: from, topic: 'hostile/g/' + 'x'.repeat(246), data: data('topic past the limit') },
        { type: 'message', tab: from, topic: 'hostile/g/a b', data: data('space') },
        { type: 'message', tab: from, topic: 'hostile/g/a', data: new Uint8Array(65537) },
        { type: 'message', tab: from, topic: 'hostile/g/a', data: 'a string' },
        { type: 'message', tab: from, topic: 'hostile/other', data: data('not global') },
        { type: 'declare', tab: from, pattern: 'x'.repeat(256) },
        { type: 'declare', tab: from, pattern: { toString: null } },
        { type: 'declare', tab: from, pattern: 'a b' },
        { type: 'constructor', tab: from },
        'junk',
        null,
        [1, 2, 3],
      ]) {
        bus.postMessage(m);
      }
      for (const m of [JSON.parse('{"__proto__": {"type": "registry-changed"}}'), { type: 'registry-changed', __proto__: null }, 42]) registry.postMessage(m);
      bus.postMessage({ type: 'message', tab: from, topic: 'hostile/g/b', data: data('last') });
      await new Promise<void>((ok) => {
        const check = () => (got.length >= 2 ? ok() : setTimeout(check, 10));
        check();
      });
      unsubscribe();
      bus.close();
      registry.close();
      return { got, globals: k.bus.stats().globals.filter((g) => g.startsWith('x') || g.includes(' ')) };
    });
    expect(r.got).toEqual(['hostile/g/a first', 'hostile/g/b last']);
    expect(r.globals).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await prototypesClean(page)).toEqual({ polluted: undefined, objectKeys: [], arrayKeys: 0 });
  });
});

describe('limits: topics, names and messages at and one past the limit', () => {
  it('a module: a 255-byte topic and a 64 KiB message pass, one byte more is refused', async () => {
    const topic = `l/${'x'.repeat(253)}`;
    await page.evaluate((t) => {
      const w = window as unknown as { __limits: string[] };
      w.__limits = [];
      window.kernel.bus.subscribe(t, (d, topic) => w.__limits.push(`${topic.length} ${new TextDecoder().decode(d)}`));
      window.kernel.bus.subscribe('l/big', (d) => w.__limits.push(`big ${d.length}`));
    }, topic);
    const r = await run(page, 'hostile', { args: ['limits'] });
    expect(results(r.stdout)).toEqual({
      'publish.topic-255': '0',
      'publish.topic-256': 'EINVAL',
      'subscribe.pattern-255': '0',
      'subscribe.pattern-256': 'EINVAL',
      'publish.message-65536': '0',
      'publish.message-65537': 'EMSGSIZE',
      'publish.topic-empty': 'EINVAL',
      'publish.topic-space': 'EINVAL',
      'publish.topic-star': 'EINVAL',
    });
    await page.waitForFunction(() => (window as unknown as { __limits: string[] }).__limits.length >= 2);
    expect(await page.evaluate(() => (window as unknown as { __limits: string[] }).__limits)).toEqual(['255 at', 'big 65536']);
  });

  for (const mode of ['worker', 'iframe', 'inpage'] as const) {
    it(`a JS module's handle: the same limits, refused with codes (${mode})`, async () => {
      await page.evaluate(() => {
        const w = window as unknown as { __big: number[]; __bigStop?: () => void };
        w.__bigStop?.();
        w.__big = [];
        w.__bigStop = window.kernel.bus.subscribe('hostile/big', (d) => w.__big.push(d.length));
      });
      const r = await run(page, 'hostile-js', { mode, args: ['limits'] });
      expect(report(r.stdout)).toEqual({
        'topic 255': 'ok',
        'topic 256': 'bus/invalid-topic',
        'message 65536': 'ok',
        'message 65537': 'bus/too-large',
        'message 1 MiB': 'bus/too-large',
        after: 'ok',
      });
      // What reached a subscriber: the message at the limit, then the last one, nothing between.
      await page.waitForFunction(() => (window as unknown as { __big: number[] }).__big.includes(3));
      expect(await page.evaluate(() => (window as unknown as { __big: number[] }).__big)).toEqual([65536, 3]);
    });
  }

  it('the page API and the registry: the same limits, refused with codes', async () => {
    const r = await page.evaluate(async (bytes) => {
      const k = window.kernel;
      const code = (f: () => unknown) => {
        try {
          f();
          return 'ok';
        } catch (e) {
          return (e as { code: string }).code;
        }
      };
      const acode = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      const t255 = `l/${'y'.repeat(253)}`;
      return {
        publish: [code(() => k.bus.publish(t255, 'x')), code(() => k.bus.publish(`${t255}y`, 'x'))],
        message: [code(() => k.bus.publish('l/m', new Uint8Array(65536))), code(() => k.bus.publish('l/m', new Uint8Array(65537)))],
        subscribe: [code(() => k.bus.subscribe(t255, () => {})()), code(() => k.bus.subscribe(`${t255}y`, () => {}))],
        declare: [code(() => k.bus.declareGlobal(`${t255}y`)), code(() => k.bus.declareGlobal('__proto__/*'))],
        install: [
          await acode(k.install(new Uint8Array(bytes), { name: 'n'.repeat(64) })),
          await acode(k.install(new Uint8Array(bytes), { name: 'n'.repeat(65) })),
          await acode(k.install(new Uint8Array(bytes), { name: '__proto__' })),
          await acode(k.install(new Uint8Array(bytes), { name: '' })),
        ],
        spawn: [await acode(k.spawn('n'.repeat(65))), await acode(k.spawn('constructor')), await acode(k.spawn('toString'))],
      };
    }, moduleBytes('hello'));
    expect(r.publish).toEqual(['ok', 'bus/invalid-topic']);
    expect(r.message).toEqual(['ok', 'bus/too-large']);
    expect(r.subscribe).toEqual(['ok', 'bus/invalid-topic']);
    expect(r.declare).toEqual(['bus/invalid-topic', 'ok']);
    expect(r.install).toEqual(['ok', 'registry/invalid-name', 'registry/invalid-name', 'registry/invalid-name']);
    expect(r.spawn).toEqual(['kernel/unknown-module', 'kernel/unknown-module', 'kernel/unknown-module']);
  });
});

describe('a JS module in each mode reaching for what is not its own', () => {
  /** What `hostile-js reach` printed in `mode`, and whether the app's registry channel heard it. */
  async function reach(mode: 'worker' | 'iframe' | 'inpage'): Promise<{ lines: Record<string, string>; heard: unknown[] }> {
    const channel = await page.evaluate(() => `webmk:${new URL('./', location.href).pathname}:registry`);
    const same = new URL('index.html', server.url).href;
    const other = same.replace('127.0.0.1', 'localhost');
    let stdout = '';
    const heard = await heardOnAppChannel(page, channel, async () => {
      stdout = (await run(page, 'hostile-js', { mode, args: ['reach', same, other, channel] })).stdout;
    });
    return { lines: report(stdout), heard };
  }

  it('in the container (iframe): nothing of the app, no page, no network', async () => {
    const r = await reach('iframe');
    expect(r.lines).toEqual({
      registry: 'refused',
      channel: 'refused',
      document: 'refused',
      parent: 'refused',
      top: 'refused',
      kernel: 'refused',
      'fetch-app': 'refused',
      'fetch-other-origin': 'refused',
    });
    // A contained realm has no BroadcastChannel (it would be the container's origin's, not the app's).
    expect(r.heard).toEqual(['control']);
  });

  it("in a worker of the app (granted run:worker): the app's origin, by design; not the page", async () => {
    const r = await reach('worker');
    expect(r.lines).toEqual({
      registry: 'reached',
      channel: 'reached',
      document: 'refused',
      parent: 'refused',
      top: 'refused',
      kernel: 'refused',
      'fetch-app': 'reached',
      // Another origin answers without CORS headers: the browser refuses it, not the kernel.
      'fetch-other-origin': 'refused',
    });
    expect(r.heard).toEqual([{ type: 'registry-changed', from: 'hostile-js' }, 'control']);
  });

  it('on the page (granted run:inpage): the page itself, by design', async () => {
    const r = await reach('inpage');
    expect(r.lines).toEqual({
      registry: 'reached',
      channel: 'reached',
      document: 'reached',
      parent: 'reached',
      top: 'reached',
      kernel: 'reached',
      'fetch-app': 'reached',
      'fetch-other-origin': 'refused',
    });
    expect(r.heard).toEqual([{ type: 'registry-changed', from: 'hostile-js' }, 'control']);
  });

  for (const mode of ['iframe', 'worker'] as const) {
    it(`another module's bus messages, through the buffers its glue wraps (${mode})`, async () => {
      const secret = `s3cret-for-the-victim-${mode}`;
      const own = `own-message-of-the-thief-${mode}`;
      // The victim holds a subscription and has received the secret: it is in its inbox's memory.
      const victim = await background(page, 'hostile-js', ['hold', 'hostile/secret'], mode);
      await waitOutput(page, victim, 'ready');
      await page.evaluate((text) => window.kernel.bus.publish('hostile/secret', text), secret);
      await waitOutput(page, victim, `got ${secret}`);
      // The thief finds its own message (the search works), then looks for the victim's.
      const thief = await background(page, 'hostile-js', ['steal', own, secret], mode);
      await waitOutput(page, thief, 'ready');
      await page.evaluate((text) => window.kernel.bus.publish('hostile/own', text), own);
      expect(await waitExit(page, thief)).toBe(0);
      const lines = report(await output(page, thief));
      await page.evaluate((pid) => window.kernel.kill(pid), victim);
      expect(lines).toMatchObject({ buffers: 'some', 'own message': 'found' });
      // In the container each process's bus mirror is its own. A worker of the app shares the
      // tab's bus arena: a JS module is run there only when granted run:worker, which is
      // documented as not isolated from the app.
      expect(lines.secret).toBe(mode === 'iframe' ? 'not found' : 'found');
    });
  }

  for (const mode of ['iframe', 'worker'] as const) {
    it(`another module of its realm's origin, over a BroadcastChannel or a nested worker (${mode})`, async () => {
      const channel = `hostile-side-channel-${mode}`;
      const listener = await background(page, 'hostile-js', ['listen', channel], mode, true);
      await waitOutput(page, listener, mode === 'iframe' ? 'listen: ' : 'listening');
      const said = report((await run(page, 'hostile-js', { mode, args: ['say', channel] })).stdout);
      await page.evaluate((pid) => (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[pid]?.write(new TextEncoder().encode('go\n')), listener);
      expect(await waitExit(page, listener)).toBe(0);
      const heard = report(await output(page, listener));
      if (mode === 'iframe') {
        // Every process of the container shares its opaque origin: the container's realms offer
        // a JS module no BroadcastChannel and no nested worker.
        expect(heard).toEqual({ listen: 'refused ReferenceError' });
        expect(said).toEqual({ say: 'refused', 'nested worker': 'refused ReferenceError' });
      } else {
        // A worker of the app (granted run:worker) has the app's origin, by design.
        expect(heard).toEqual({ heard: '["psst"]' });
        expect(said).toEqual({ say: 'reached', 'nested worker': 'reached function' });
      }
    });
  }
});

/** Starts a module in `mode` (stdout in `__out[pid]`, exit in `__exit[pid]`); `stdin` keeps its stdin open in `__stdin[pid]`. */
function background(p: Page, name: string, args: string[], mode: 'worker' | 'iframe' | 'inpage', stdin = false): Promise<number> {
  return startBackground(p, name, args, { mode, keepStdin: stdin });
}

/** A module's bytes with a `webmk.manifest` section holding exactly `text` (keys JSON.stringify would drop). */
function withManifestText(bytes: number[], text: string): number[] {
  // withManifest appends its section last; for `null` that is 21 bytes: id, size, name, "null".
  const stripped = withManifest(bytes, null).slice(0, -21);
  const name = [...'webmk.manifest'].map((c) => c.charCodeAt(0));
  const payload = [...leb(name.length), ...name, ...new TextEncoder().encode(text)];
  return [...stripped, 0, ...leb(payload.length), ...payload];
}
