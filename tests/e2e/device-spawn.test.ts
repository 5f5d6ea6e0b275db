/**
 * Remote mode over devices (issue 13, ADR 0021): two paired Chromium processes (a relay on
 * 127.0.0.1, all in a network namespace of the test's making) list each other as device nodes;
 * a spawn from one asks the person on the other first (the shell's dialog, or
 * `kernel.answerRemote`): allowed once it runs interactively, denied it rejects `remote/refused`,
 * allowed always it runs again unasked and can be killed; bus topics cross both ways and 32 MiB
 * go through a stage there with the same SHA-256; forgetting the device drops "always";
 * a killed browser ends what ran on it with `link-lost`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showView } from './harness';
import { launchDevice, startWorld, turnOn, waitEvent, type Device, type DeviceWorld } from './device-helpers';
import { install, installWith, output, waitExit, waitOutput } from './kernel-helpers';
import { makeNamespace, namespaceUnavailable, type Namespace } from './netns';
import { codeOf, startRemote, waitNode, writeStdin } from './remote-helpers';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';
const unavailable = namespaceUnavailable();
if (unavailable !== undefined) console.warn(`device spawn e2e SKIPPED: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`remote spawns to a device${unavailable !== undefined ? ` (skipped: ${unavailable})` : ''}`, () => {
  let ns: Namespace;
  let world: DeviceWorld;
  let a: Device;
  let b: Device;
  let idA = '';
  let idB = '';

  /** Lets the oldest request waiting on `b` run once. */
  async function allowOnce(): Promise<void> {
    const req = await request(b);
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'once'), req.id);
  }

  /** Waits until `d` has `n` requests waiting; returns the oldest. */
  async function request(d: Device): Promise<{ id: number; node: string; nodeName: string; module: string }> {
    await d.page.waitForFunction(() => window.kernel.remoteRequests().length > 0, undefined, { timeout: 30_000, polling: 100 });
    return d.page.evaluate(() => window.kernel.remoteRequests()[0]!);
  }

  beforeAll(async () => {
    ns = await makeNamespace();
    world = await startWorld(ns);
    [a, b] = await Promise.all([launchDevice(ns, world.url, 'a'), launchDevice(ns, world.url, 'b')]);
    [idA, idB] = await Promise.all([turnOn(a.page, world.relay), turnOn(b.page, world.relay)]);
    // Each browser has its own registry: the modules are installed where they run.
    await install(b.page, 'cat', 'spin');
    await installWith(b.page, 'bustool', 'all');
    await installWith(b.page, 'plugin', 'all');
    await install(a.page, 'seq');
    const link = await a.page.evaluate(() => window.webmkDevices.current?.pairingLink() ?? '');
    await b.page.evaluate(async (l) => void (await window.webmkDevices.current!.pair(l)), link);
    await waitEvent(a.page, 'link', idB);
  }, 180_000);

  afterAll(async () => {
    await a?.browser.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    ns?.close();
  });

  it('lists the paired device as a node of kind device, with its name and a round trip', async () => {
    const node = await waitNode(a.page, idB);
    expect(node).toMatchObject({ id: idB, kind: 'device', connected: true });
    expect(node.name.length).toBeGreaterThan(0);
    await waitNode(b.page, idA);
    await a.page.waitForFunction((n) => window.kernel.nodes().find((x) => x.id === n)?.rttMs !== undefined, idB, { timeout: 30_000 });
    // The shell's Nodes panel lists it, above the Devices panel it holds.
    await showView(a.page, 'Nodes');
    const row = a.page.locator(`webmk-nodes tr[data-node="${idB}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.innerText()).toContain('device');
    await a.page.locator('section[aria-labelledby="nodes-heading"] webmk-devices-panel').waitFor();
    await a.page.locator('section[aria-labelledby="nodes-heading"]').screenshot({ path: `${SHOTS}/webmk-nodes-devices.png` });
  });

  it('asks the person on the device first; allowed once in its dialog, it answers stdin interactively', async () => {
    const started = startRemote(a.page, 'cat', idB, { keepStdin: true });
    const req = await request(b);
    expect(req).toMatchObject({ node: idA, module: 'cat' });
    const dialog = b.page.locator('.remote-request-dialog[open]');
    await dialog.waitFor({ timeout: 30_000 });
    expect(await dialog.innerText()).toContain('asks to run cat');
    await b.page.screenshot({ path: `${SHOTS}/webmk-remote-request-dialog.png` });
    await dialog.locator('button.once').click();
    const pid = await started;
    await writeStdin(a.page, pid, 'over the device\n');
    await waitOutput(a.page, pid, 'over the device\n');
    await writeStdin(a.page, pid, 'and again\n');
    expect(await waitOutput(a.page, pid, 'and again\n')).toBe('over the device\nand again\n');
    await a.page.evaluate((p) => (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[p]?.close(), pid);
    expect(await waitExit(a.page, pid)).toBe(0);
    expect(await b.page.evaluate(() => window.kernel.remoteRequests().length)).toBe(0);
  });

  it('a denied request rejects the spawn with remote/refused, and nothing runs there', async () => {
    const before = await b.page.evaluate(() => window.kernel.processes().length);
    const code = codeOf(a.page, '(k, n) => k.spawn("cat", { mode: "remote", node: n })', idB);
    const req = await request(b);
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'deny'), req.id);
    expect(await code).toBe('remote/refused');
    expect(await b.page.evaluate(() => window.kernel.processes().length)).toBe(before);
  });

  it('bus topics cross the device link both ways, with the grants the module has there', async () => {
    await a.page.evaluate(() => {
      const w = window as unknown as { __heard: string[] };
      w.__heard = [];
      window.kernel.bus.subscribe('test/out', (d, t) => w.__heard.push(`${t}: ${new TextDecoder().decode(d)}`));
    });
    // Published on the device by the process running there, heard here by the page.
    const pub = startRemote(a.page, 'bustool', idB, { args: ['pub', 'test/out', '3'] });
    await allowOnce();
    expect(await waitExit(a.page, await pub)).toBe(0);
    await a.page.waitForFunction(() => (window as unknown as { __heard: string[] }).__heard.length >= 3, undefined, { timeout: 30_000 });
    expect(await a.page.evaluate(() => (window as unknown as { __heard: string[] }).__heard)).toEqual(['test/out: test/out #0', 'test/out: test/out #1', 'test/out: test/out #2']);
    // Published here by the page, received by the process on the device.
    const sub = startRemote(a.page, 'bustool', idB, { args: ['sub', 'test/in', '2'] });
    await allowOnce();
    const subPid = await sub;
    await waitOutput(a.page, subPid, 'ready');
    await a.page.evaluate(() => {
      window.kernel.bus.publish('test/in', 'one');
      window.kernel.bus.publish('test/in', 'two');
    });
    expect(await waitExit(a.page, subPid)).toBe(0);
    expect(await output(a.page, subPid)).toBe('ready\ntest/in: one\ntest/in: two\ndropped 0\n');
    // A topic outside what it was granted there is refused there (EACCES), whoever asked.
    const denied = startRemote(a.page, 'bustool', idB, { args: ['try-pub', 'other/out'] });
    await allowOnce();
    const deniedPid = await denied;
    expect(await waitExit(a.page, deniedPid)).toBe(0);
    expect(await output(a.page, deniedPid)).toBe('publish=-2\n');
  }, 120_000);

  it('pipes 32 MiB from a stage here through a stage on the device and back, the same SHA-256 as without it', async () => {
    const digest = (remote: boolean) =>
      a.page.evaluate(
        async ([n, r]) => {
          const stages = [{ name: 'seq', args: ['1', '4333192'] }, ...(r ? [{ name: 'cat', node: n }] : [])];
          const procs = await window.kernel.pipeline(stages);
          const last = procs[procs.length - 1];
          if (last === undefined) throw new Error('no stages');
          const [bytes, codes] = await Promise.all([new Response(last.stdout).arrayBuffer(), Promise.all(procs.map((p) => p.exit))]);
          const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
          return { length: bytes.byteLength, codes, hash: [...hash].map((x) => x.toString(16).padStart(2, '0')).join('') };
        },
        [idB, remote] as const,
      );
    const direct = await digest(false);
    // 4,333,192 lines of "1".."4333192": exactly 32 MiB.
    expect(direct.length).toBe(33554432);
    const through = digest(true);
    await allowOnce();
    expect(await through).toEqual({ ...direct, codes: [0, 0] });
  }, 240_000);

  it('a service call on the device is asked there first: allowed once it answers, denied it fails remote/refused', async () => {
    const callOn = (input: string) =>
      a.page.evaluate(
        ([n, i]) =>
          window.kernel.call('plugin', 'upper', i, { node: n }).then(
            (o) => new TextDecoder().decode(o),
            (e: { code: string }) => e.code,
          ),
        [idB, input] as const,
      );
    const allowed = callOn('over the link');
    expect(await request(b)).toMatchObject({ node: idA, module: 'plugin' });
    await allowOnce();
    expect(await allowed).toBe('OVER THE LINK');
    const denied = callOn('no');
    const req = await request(b);
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'deny'), req.id);
    expect(await denied).toBe('remote/refused');
  });

  it('allowed always, the module runs again without asking, and a kill ends it on both devices', async () => {
    const first = startRemote(a.page, 'spin', idB);
    const req = await request(b);
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'always'), req.id);
    const pid = await first;
    await waitOutput(a.page, pid, 'spinning');
    await a.page.evaluate((p) => window.kernel.kill(p), pid);
    expect(await waitExit(a.page, pid)).toBe(137);
    // Asked no more: the second spawn starts with no request waiting on b.
    const again = await startRemote(a.page, 'spin', idB);
    await waitOutput(a.page, again, 'spinning');
    expect(await b.page.evaluate(() => window.kernel.remoteRequests().length)).toBe(0);
    const row = await a.page.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), again);
    expect(row).toMatchObject({ mode: 'remote', node: idB, state: 'running' });
    await b.page.waitForFunction((p) => window.kernel.processes().some((x) => x.remotePid === p && x.state === 'running'), again);
  });

  it('forgetting the device drops "always": paired again, it is asked again', async () => {
    const running = await a.page.evaluate(() => window.kernel.processes().find((x) => x.mode === 'remote' && x.state === 'running')?.pid ?? -1);
    await b.page.evaluate((id) => window.webmkDevices.current!.forget(id), idA);
    // Its link closes: what ran there for the other device ends.
    await a.page.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', running, { timeout: 30_000, polling: 100 });
    const links = await a.page.evaluate((p) => (window as unknown as { deviceEvents: Array<{ type: string; peer?: string }> }).deviceEvents.filter((e) => e.type === 'link' && e.peer === p).length, idB);
    const link = await a.page.evaluate(() => window.webmkDevices.current?.pairingLink() ?? '');
    await b.page.evaluate(async (l) => void (await window.webmkDevices.current!.pair(l)), link);
    await waitEvent(a.page, 'link', idB, links + 1);
    await waitNode(a.page, idB);
    const started = startRemote(a.page, 'spin', idB);
    const req = await request(b);
    expect(req).toMatchObject({ node: idA, module: 'spin' });
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'once'), req.id);
    await waitOutput(a.page, await started, 'spinning');
  }, 240_000);

  it('a killed browser ends what ran on it with link-lost', async () => {
    const pid = await a.page.evaluate(() => window.kernel.processes().find((x) => x.mode === 'remote' && x.state === 'running')?.pid ?? -1);
    expect(pid).toBeGreaterThan(0);
    const t0 = Date.now();
    b.kill();
    await a.page.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', pid, { timeout: 30_000, polling: 100 });
    expect(await a.page.evaluate((p) => window.kernel.processes().find((x) => x.pid === p)?.reason, pid)).toBe('link-lost');
    expect(await a.page.evaluate((n) => window.kernel.nodes().some((x) => x.id === n), idB)).toBe(false);
    console.log(`device spawn: a killed browser ended its process in ${Date.now() - t0} ms`);
  });
});
