/**
 * Remote mode over devices, the rest of issue 13 (ADR 0029): two paired Chromium processes (a
 * relay on 127.0.0.1, in a network namespace of the test's making), only one of which has the
 * modules. A spawn of a module the other device lacks sends its package along; the person there
 * is asked to install and run it (the shell's dialog says so), and once allowed it is installed
 * there (granted nothing) and runs; denied, nothing is installed. A graphics module run on the
 * other device shows its window here, and a click here reaches it there. A running migratable
 * process moves to the device with its state (`setMode(pid, 'remote', { node })`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleBytes } from './harness';
import { launchDevice, startWorld, turnOn, waitEvent, type Device, type DeviceWorld } from './device-helpers';
import { install, startBackground, waitExit, waitOutput } from './kernel-helpers';
import { makeNamespace, namespaceUnavailable, type Namespace } from './netns';
import { codeOf, startRemote, waitNode, writeStdin } from './remote-helpers';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';
const TEST_KEY = readFileSync(resolve(import.meta.dirname, '../../modules/packages/sensors-test-key.pub'), 'utf8').trim();
const unavailable = namespaceUnavailable();
if (unavailable !== undefined) console.warn(`device carry e2e SKIPPED: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`modules sent along to a device, remote windows${unavailable !== undefined ? ` (skipped: ${unavailable})` : ''}`, () => {
  let ns: Namespace;
  let world: DeviceWorld;
  let a: Device;
  let b: Device;
  let idA = '';
  let idB = '';

  /** Waits until `d` has a request waiting; returns the oldest. */
  async function request(d: Device): Promise<{ id: number; node: string; module: string; install?: { bytes: number } }> {
    await d.page.waitForFunction(() => window.kernel.remoteRequests().length > 0, undefined, { timeout: 30_000, polling: 100 });
    return d.page.evaluate(() => window.kernel.remoteRequests()[0]!);
  }

  const installedOn = (d: Device) => d.page.evaluate(async () => (await window.kernel.modules()).map((m) => m.name).sort());

  beforeAll(async () => {
    ns = await makeNamespace();
    world = await startWorld(ns);
    [a, b] = await Promise.all([launchDevice(ns, world.url, 'a'), launchDevice(ns, world.url, 'b')]);
    [idA, idB] = await Promise.all([turnOn(a.page, world.relay), turnOn(b.page, world.relay)]);
    // Only a has the modules: b gets what it runs from a.
    await install(a.page, 'cat', 'seq', 'gfx-probe');
    await a.page.setViewportSize({ width: 1280, height: 900 });
    const link = await a.page.evaluate(() => window.webmkDevices.current?.pairingLink() ?? '');
    await b.page.evaluate(async (l) => void (await window.webmkDevices.current!.pair(l)), link);
    await waitEvent(a.page, 'link', idB);
    await waitNode(a.page, idB);
    await waitNode(b.page, idA);
  }, 180_000);

  afterAll(async () => {
    await a?.browser.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    ns?.close();
  });

  it('sends a module the device lacks: the person there is asked to install and run it, and then it runs', async () => {
    expect(await installedOn(b)).toEqual([]);
    const started = startRemote(a.page, 'cat', idB, { keepStdin: true });
    const req = await request(b);
    expect(req).toMatchObject({ node: idA, module: 'cat' });
    expect(req.install?.bytes).toBeGreaterThan(1000);
    const dialog = b.page.locator('.remote-request-dialog[open]');
    await dialog.waitFor({ timeout: 30_000 });
    expect(await dialog.innerText()).toContain('asks to install and run cat');
    await b.page.screenshot({ path: `${SHOTS}/webmk-remote-install-dialog.png` });
    await dialog.locator('button.once').click();
    const pid = await started;
    await writeStdin(a.page, pid, 'sent along\n');
    expect(await waitOutput(a.page, pid, 'sent along\n')).toBe('sent along\n');
    await a.page.evaluate((p) => (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[p]?.close(), pid);
    expect(await waitExit(a.page, pid)).toBe(0);
    // Installed there as a has it (same bytes), granted nothing.
    const [mine, theirs] = await Promise.all([a.page, b.page].map((p) => p.evaluate(async () => (await window.kernel.modules()).find((m) => m.name === 'cat'))));
    expect(theirs?.sha256).toBe(mine?.sha256);
    expect(theirs?.grants).toMatchObject({ publish: [], subscribe: [] });
    // Installed now: the next spawn is asked as any run is, with nothing sent.
    const again = startRemote(a.page, 'cat', idB);
    const second = await request(b);
    expect(second.install).toBeUndefined();
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'once'), second.id);
    expect(await waitExit(a.page, await again)).toBe(0);
  });

  it('denied, nothing is installed there and the spawn rejects with remote/refused', async () => {
    const code = codeOf(a.page, '(k, n) => k.spawn("seq", { mode: "remote", node: n, args: ["3"] })', idB);
    const req = await request(b);
    expect(req).toMatchObject({ module: 'seq', install: {} });
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'deny'), req.id);
    expect(await code).toBe('remote/refused');
    expect(await installedOn(b)).toEqual(['cat']);
    // A module neither device has is not installed there, and nothing is asked.
    expect(await codeOf(a.page, '(k, n) => k.spawn("no-such-module", { mode: "remote", node: n })', idB)).toBe('remote/not-installed');
  });

  it('a module of a signed package goes with its whole package, manifest and signature: installed there as signed, by a key not trusted there', async () => {
    await a.page.evaluate(async (key) => {
      await window.kernel.trust.add(key);
      await window.kernel.install(new Uint8Array(await (await fetch('modules/sensors.zip')).arrayBuffer()));
    }, TEST_KEY);
    const started = startRemote(a.page, 'logger', idB, { args: ['sensors/*', '1'] });
    const req = await request(b);
    expect(req).toMatchObject({ module: 'logger' });
    expect(req.install?.bytes).toBeGreaterThan(20_000);
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'once'), req.id);
    const pid = await started;
    const pkg = await b.page.evaluate(async () => (await window.kernel.packages()).find((p) => p.name === 'sensors'));
    expect(pkg).toMatchObject({ version: '1.0.0', publisher: TEST_KEY, signature: 'untrusted-key' });
    expect(pkg?.modules.map((m) => m.name)).toEqual(['ticker', 'fahrenheit', 'logger']);
    await a.page.evaluate((p) => window.kernel.kill(p), pid);
    await waitExit(a.page, pid);
  });

  it("shows a graphics module's window from the other device here; a click here reaches it there", async () => {
    const started = startRemote(a.page, 'gfx-probe', idB, { args: ['pattern', '320', '240'] });
    const req = await request(b);
    expect(req).toMatchObject({ module: 'gfx-probe' });
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'once'), req.id);
    const pid = await started;
    await waitOutput(a.page, pid, 'open 0');
    const win = a.page.locator(`webmk-gfx-window[data-pid="${pid}"]`);
    await win.waitFor({ timeout: 30_000 });
    expect(await a.page.evaluate((p) => window.kernel.gfx.windows().find((w) => w.pid === p), pid)).toMatchObject({ width: 320, height: 240, node: idB, state: 'live' });
    // The quadrants arrive as frames over the device link.
    await a.page.waitForFunction(
      async (p) => {
        const w = window.kernel.gfx.windows().find((x) => x.pid === p);
        if (w === undefined) return false;
        const bitmap = await createImageBitmap(w.canvas);
        const c = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = c.getContext('2d');
        if (ctx === null) return false;
        ctx.drawImage(bitmap, 0, 0);
        const [r, g, bl] = ctx.getImageData(Math.floor(bitmap.width / 4), Math.floor(bitmap.height / 4), 1, 1).data;
        const [r2, g2, b2] = ctx.getImageData(Math.floor((3 * bitmap.width) / 4), Math.floor((3 * bitmap.height) / 4), 1, 1).data;
        return r === 255 && g === 0 && bl === 0 && r2 === 255 && g2 === 255 && b2 === 255;
      },
      pid,
      { timeout: 30_000, polling: 200 },
    );
    const canvas = win.locator('canvas');
    const box = await canvas.boundingBox();
    if (box === null) throw new Error('no canvas box');
    await a.page.mouse.click(box.x + (60.5 * box.width) / 320, box.y + (20.5 * box.height) / 240);
    expect(await waitOutput(a.page, pid, 'ev 3 ')).toMatch(/^ev 3 60 20 0 /m);
    await win.screenshot({ path: `${SHOTS}/webmk-remote-device-window.png` });
    await a.page.evaluate((p) => window.kernel.kill(p), pid);
    expect(await waitExit(a.page, pid)).toBe(137);
  });

  it('moves a running migratable process to the device (setMode remote): asked there, its snapshot crosses the device link', async () => {
    // Both have it migratable from the same bytes (the instrumentation is deterministic).
    const shas = await Promise.all(
      [a.page, b.page].map((p) => p.evaluate(async (bytes) => (await window.kernel.install(new Uint8Array(bytes), { name: 'accum', migratable: true })) as unknown as { migratable?: { sha256: string } }, moduleBytes('accum'))),
    );
    expect(shas[0]?.migratable?.sha256).toBe(shas[1]?.migratable?.sha256);
    const pid = await startBackground(a.page, 'accum', [], { keepStdin: true });
    await waitOutput(a.page, pid, 'ready');
    await writeStdin(a.page, pid, '3\n');
    await waitOutput(a.page, pid, 'n=1 total=3 ');
    const moving = a.page.evaluate(([p, n]) => window.kernel.setMode(p, 'remote', { node: n }), [pid, idB] as const);
    const req = await request(b);
    expect(req).toMatchObject({ module: 'accum' });
    expect(req.install).toBeUndefined();
    await b.page.evaluate((id) => window.kernel.answerRemote(id, 'once'), req.id);
    await moving;
    expect(await a.page.evaluate((p) => window.kernel.processes().find((x) => x.pid === p), pid)).toMatchObject({ mode: 'remote', node: idB, state: 'running' });
    await writeStdin(a.page, pid, '4\n');
    expect(await waitOutput(a.page, pid, 'n=2 total=7 ')).toMatch(/^n=2 total=7 check=-?\d+ clock=ok$/m);
    expect(await b.page.evaluate((p) => window.kernel.processes().find((x) => x.remotePid === p)?.state, pid)).toBe('running');
    await a.page.evaluate((p) => window.kernel.kill(p), pid);
    expect(await waitExit(a.page, pid)).toBe(137);
  }, 120_000);
});
