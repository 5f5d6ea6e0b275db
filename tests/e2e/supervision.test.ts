/**
 * Lifecycle and supervision through `window.kernel`, in real Chromium: states and reasons as
 * `statechange` events, restart types, the intensity limit, the backoff schedule, explicit
 * restarts, the watchdog and its heartbeat, and subscriptions kept across a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { RestartPolicy, StateChange } from '../../src/kernel';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, installWith } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'crashy-supervised', 'cat');
  await installWith(page, 'crashy', 'all');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Watched {
  pid: number;
  stdout: string;
  code: number;
  changes: StateChange[];
  /** `restartAt - lastExit.at` read at each `backoff`: the delay the supervisor chose. */
  delays: number[];
  row: ReturnType<Window['kernel']['processes']>[number] | undefined;
}

/**
 * Spawns a module, records its `statechange` events and the backoff it is given, reads its
 * stdout to the end and waits for its final exit code.
 */
function supervise(name: string, args: string[], opts: { restart?: RestartPolicy; watchdogMs?: number } = {}): Promise<Watched> {
  return page.evaluate(
    async ([n, a, o]) => {
      const k = window.kernel;
      const seen: StateChange[] = [];
      const delays: Array<[number, number]> = [];
      const listener = (e: Event) => {
        const d = (e as CustomEvent<StateChange>).detail;
        seen.push(d);
        if (d.state === 'backoff') {
          const row = k.processes().find((p) => p.pid === d.pid);
          if (row?.restartAt !== undefined && row.lastExit !== undefined) delays.push([d.pid, row.restartAt - row.lastExit.at]);
        }
      };
      k.addEventListener('statechange', listener);
      const p = await k.spawn(n, { args: a, ...o });
      await p.stdin.close();
      const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exit]);
      k.removeEventListener('statechange', listener);
      return {
        pid: p.pid,
        stdout,
        code,
        changes: seen.filter((d) => d.pid === p.pid),
        delays: delays.filter(([pid]) => pid === p.pid).map(([, ms]) => ms),
        row: k.processes().find((r) => r.pid === p.pid),
      };
    },
    [name, args, opts] as const,
  );
}

const states = (w: Watched) => w.changes.map((c) => `${c.state}:${c.reason}:${c.incarnation}`);

describe('lifecycle', () => {
  it('a temporary process (the default) is not restarted: starting, running, exited with its reason', async () => {
    const w = await supervise('crashy', ['trap']);
    expect(w.code).toBe(134);
    expect(states(w)).toEqual(['starting:requested:1', 'running:requested:1', 'exited:crashed:1']);
    expect(w.row).toMatchObject({ state: 'exited', reason: 'crashed', incarnation: 1, restarts: 0, restart: 'temporary' });
  });
});

describe('restart policies', () => {
  it('transient: restarted after an abnormal exit under the same pid and streams, until its intensity is used up', async () => {
    const w = await supervise('crashy', ['exit', '3'], { restart: { restart: 'transient', intensity: 2, periodMs: 60_000, backoff: { initialMs: 10 } } });
    expect(w.stdout).toBe('exit 3\nexit 3\nexit 3\n');
    expect(w.code).toBe(3);
    expect(states(w)).toEqual([
      'starting:requested:1',
      'running:requested:1',
      'backoff:exited:1',
      'starting:exited:2',
      'running:exited:2',
      'backoff:exited:2',
      'starting:exited:3',
      'running:exited:3',
      'exited:restart-limit:3',
    ]);
    expect(w.row).toMatchObject({ pid: w.pid, state: 'exited', reason: 'restart-limit', exitCode: 3, incarnation: 3, restarts: 2 });
    expect(w.row?.lastExit).toMatchObject({ code: 3, reason: 'exited' });
    expect(w.row?.message).toContain('more than 2 restarts');
  });

  it('transient: a clean exit(0) ends it for good', async () => {
    const w = await supervise('crashy', ['exit', '0'], { restart: { restart: 'transient' } });
    expect(w.code).toBe(0);
    expect(w.row).toMatchObject({ reason: 'exited', incarnation: 1, restarts: 0 });
  });

  it('permanent: restarted after a clean exit too', async () => {
    const w = await supervise('crashy', ['exit', '0'], { restart: { restart: 'permanent', intensity: 1, backoff: { initialMs: 10 } } });
    expect(w.stdout).toBe('exit 0\nexit 0\n');
    expect(w.row).toMatchObject({ reason: 'restart-limit', incarnation: 2, restarts: 1 });
  });

  it('the backoff grows by its factor up to its cap, and starts over after a quiet run', async () => {
    const growing = await supervise('crashy', ['trap'], {
      restart: { restart: 'transient', intensity: 5, backoff: { initialMs: 20, factor: 2, maxMs: 200, resetAfterMs: 60_000 } },
    });
    expect(growing.delays.length).toBe(5);
    growing.delays.forEach((d, i) => expect(Math.abs(d - [20, 40, 80, 160, 200][i]!)).toBeLessThanOrEqual(1));
    // resetAfterMs 0: every incarnation counts as a quiet run, so the wait never grows.
    const reset = await supervise('crashy', ['trap'], {
      restart: { restart: 'transient', intensity: 3, backoff: { initialMs: 20, factor: 2, resetAfterMs: 0 } },
    });
    expect(reset.delays.length).toBe(3);
    reset.delays.forEach((d) => expect(Math.abs(d - 20)).toBeLessThanOrEqual(1));
  });

  it('the manifest gives the defaults a spawn leaves out', async () => {
    const w = await supervise('crashy-supervised', ['exit', '5']);
    expect(w.stdout).toBe('exit 5\nexit 5\n');
    expect(w.row).toMatchObject({ restart: 'transient', watchdogMs: 200, reason: 'restart-limit', incarnation: 2 });
  });

  it('rejects a bad policy with kernel/bad-argument', async () => {
    const codes = await page.evaluate(async () => {
      const k = window.kernel as unknown as { spawn(n: string, o: unknown): Promise<unknown> };
      const bad = [{ restart: 'always' }, { restart: { restart: 'sometimes' } }, { restart: { restart: 'transient', intensity: -1 } }, { watchdogMs: 1 }];
      return Promise.all(bad.map((o) => k.spawn('crashy', o).then(() => 'ok', (e: { code: string }) => e.code)));
    });
    expect(codes).toEqual(Array(4).fill('kernel/bad-argument'));
  });
});

describe('kill and restart', () => {
  it('kill ends a permanent process for good; restart brings it back under its pid with a fresh history', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const p = await k.spawn('crashy', { args: ['spin'], restart: { restart: 'permanent', intensity: 1 } });
      const reader = p.stdout.getReader();
      await reader.read(); // "spin": it runs
      await k.kill(p.pid);
      const killed = k.processes().find((x) => x.pid === p.pid);
      const again = await k.restart(p.pid);
      // Its first line: one read may return part of it.
      const lines = again.stdout.getReader();
      let text = '';
      while (!text.includes('\n')) {
        const chunk = await lines.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      const running = k.processes().find((x) => x.pid === p.pid);
      await k.kill(p.pid);
      return {
        code: await p.exit,
        samePid: again.pid === p.pid,
        killed: killed && { state: killed.state, reason: killed.reason, incarnation: killed.incarnation },
        running: running && { state: running.state, incarnation: running.incarnation, restarts: running.restarts },
        text,
      };
    });
    expect(r.code).toBe(137);
    expect(r.killed).toEqual({ state: 'exited', reason: 'killed', incarnation: 1 });
    expect(r.samePid).toBe(true);
    expect(r.text).toBe('spin\n');
    expect(r.running).toMatchObject({ incarnation: 2, restarts: 1 });
  });

  it('restart of a running process ends its incarnation and starts the next on the same handle', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const p = await k.spawn('crashy', { args: ['spin'] });
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let out = dec.decode((await reader.read()).value);
      const same = await k.restart(p.pid);
      while (!out.endsWith('spin\nspin\n')) out += dec.decode((await reader.read()).value);
      const row = k.processes().find((x) => x.pid === p.pid);
      await k.kill(p.pid);
      return { same: same === p, out, incarnation: row?.incarnation, last: row?.lastExit?.reason };
    });
    expect(r).toEqual({ same: true, out: 'spin\nspin\n', incarnation: 2, last: 'killed' });
  });

  it('restart and kill of an unknown pid reject with kernel/unknown-process', async () => {
    const codes = await page.evaluate(() =>
      Promise.all([window.kernel.restart(99_999), window.kernel.kill(99_999)].map((p) => p.then(() => 'ok', (e: { code: string }) => e.code))),
    );
    expect(codes).toEqual(['kernel/unknown-process', 'kernel/unknown-process']);
  });
});

describe('subscriptions across a restart', () => {
  it('a subscriber that crashes gets what was published while it was down, without anyone re-subscribing it', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const p = await k.spawn('crashy', { args: ['sub', 'test/sup'], restart: { restart: 'transient', backoff: { initialMs: 200 } } });
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let out = '';
      const until = async (text: string) => {
        while (!out.includes(text)) out += dec.decode((await reader.read()).value, { stream: true });
      };
      const inBackoff = new Promise<void>((ok) =>
        k.addEventListener('statechange', (e) => {
          const d = (e as CustomEvent<StateChange>).detail;
          if (d.pid === p.pid && d.state === 'backoff') ok();
        }),
      );
      await until('ready');
      k.bus.publish('test/sup', 'a');
      await until('got a');
      k.bus.publish('test/sup', 'crash');
      await inBackoff;
      const during = k.bus.stats().subscriptions.filter((s) => s.pid === p.pid).length;
      k.bus.publish('test/sup', 'b');
      await until('got b');
      const after = k.bus.stats().subscriptions.filter((s) => s.pid === p.pid).length;
      k.bus.publish('test/sup', 'quit');
      const code = await p.exit;
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        out += dec.decode(value, { stream: true });
      }
      const gone = k.bus.stats().subscriptions.filter((s) => s.pid === p.pid).length;
      return { out, code, during, after, gone, incarnation: k.processes().find((x) => x.pid === p.pid)?.incarnation };
    });
    expect(r.out).toBe('ready\ngot a\ngot crash\nready\ngot b\ngot quit\n');
    expect(r.code).toBe(0);
    expect(r.incarnation).toBe(2);
    expect([r.during, r.after, r.gone]).toEqual([1, 1, 0]);
  });
});

describe('watchdog', () => {
  it('ends a module computing past watchdogMs without a system call, and spares one parked in a blocking read', async () => {
    const r = await page.evaluate(async () => {
      const k = window.kernel;
      const parked = await k.spawn('cat', { watchdogMs: 100 });
      // An echo proves it runs; then it waits in its next read.
      const writer = parked.stdin.getWriter();
      await writer.write(new TextEncoder().encode('x'));
      await parked.stdout.getReader().read();
      const spin = await k.spawn('crashy', { args: ['spin'], watchdogMs: 100 });
      const code = await spin.exit;
      const spinRow = k.processes().find((x) => x.pid === spin.pid);
      const parkedRow = k.processes().find((x) => x.pid === parked.pid);
      await writer.close();
      return { code, reason: spinRow?.reason, message: spinRow?.message, parked: parkedRow?.state, parkedExit: await parked.exit };
    });
    expect(r.code).toBe(137);
    expect(r.reason).toBe('watchdog-expired');
    expect(r.message).toContain('watchdog 100 ms');
    expect(r.parked).toBe('running');
    expect(r.parkedExit).toBe(0);
  });

  it('a heartbeat keeps a long computation alive', async () => {
    // Slices of about 5 ms between heartbeats, a watchdog of 1 s: room for a loaded machine's
    // pauses (a thread among a hundred others on two cores can wait hundreds of ms for a core).
    const w = await supervise('crashy', ['beat', '2500'], { watchdogMs: 1000 });
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/^done after \d+ rounds\n$/);
    expect(w.row?.reason).toBe('exited');
  });

  it('a watchdog end is abnormal: a transient process is restarted after it', async () => {
    const w = await supervise('crashy', ['spin'], { watchdogMs: 200, restart: { restart: 'transient', intensity: 1, backoff: { initialMs: 10 } } });
    expect(w.stdout).toBe('spin\nspin\n');
    expect(states(w)).toContain('backoff:watchdog-expired:1');
    expect(w.row).toMatchObject({ reason: 'restart-limit', incarnation: 2 });
  });
});
