/**
 * The Devices panel, as a person uses it: two devices (two Chromium processes, a relay on
 * 127.0.0.1, in a network namespace of the test's making) turned on from the panel, paired by
 * opening one's link in the other, listed as connected on both sides; a bad link is refused
 * with a message; forgetting empties the list. Screenshots wide and at phone width.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showView } from './harness';
import { launchDevice, startWorld, type Device, type DeviceWorld } from './device-helpers';
import { makeNamespace, namespaceUnavailable, type Namespace } from './netns';

const SHOTS = process.env.WEBMK_SHOTS ?? '/tmp';
const unavailable = namespaceUnavailable();
if (unavailable !== undefined) console.warn(`shell devices e2e SKIPPED: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`the Devices panel${unavailable !== undefined ? ` (skipped: ${unavailable})` : ''}`, () => {
  let ns: Namespace;
  let world: DeviceWorld;
  let a: Device;
  let b: Device;

  beforeAll(async () => {
    ns = await makeNamespace();
    world = await startWorld(ns);
    [a, b] = await Promise.all([launchDevice(ns, world.url, 'a'), launchDevice(ns, world.url, 'b')]);
  }, 240_000);

  afterAll(async () => {
    await a?.browser.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    ns?.close();
  });

  /** Waits for `selector` in a panel; on a timeout, fails with what the panel shows (its error, if any). */
  async function panelShows(d: Device, what: () => Promise<void>): Promise<void> {
    try {
      await what();
    } catch (e) {
      const text = await d.page.locator('webmk-devices-panel').innerText().catch(() => '');
      throw new Error(`${e instanceof Error ? e.message : String(e)}\nthe panel shows: ${text}`);
    }
  }

  async function turnOnFromPanel(d: Device): Promise<void> {
    await showView(d.page, 'Nodes');
    const panel = d.page.locator('webmk-devices-panel');
    await panel.getByLabel('Relay address').fill(world.relay);
    await panel.getByRole('button', { name: 'Turn devices on' }).click();
    await panelShows(d, () => panel.locator('.devices-qr svg').waitFor({ timeout: 60_000 }));
  }

  it('turns devices on, pairs two devices by opening a link (a scanned QR code), and lists each as connected', async () => {
    // libp2p is its own chunk, loaded only when devices are turned on.
    const loaded = () => a.page.evaluate(() => performance.getEntriesByType('resource').some((e) => /\/assets\/devices-[\w-]+\.js$/.test(e.name)));
    expect(await loaded()).toBe(false);
    await turnOnFromPanel(a);
    expect(await loaded()).toBe(true);
    const panelA = a.page.locator('webmk-devices-panel');
    const panelB = b.page.locator('webmk-devices-panel');
    const link = await panelA.getByLabel('Pairing link (one use)').inputValue();
    expect(link).toMatch(/#pair=12D3Koo\w+&relay=.+&secret=[\w-]+$/);

    // b opens the link: the Nodes view shows, with the relay address and the link waiting in its panel.
    await b.page.goto(link);
    await b.page.reload();
    await b.page.waitForFunction(() => 'webmkDevices' in globalThis);
    await expect.poll(() => panelB.getByLabel('Relay address').inputValue()).toBe(world.relay);
    await panelB.getByRole('button', { name: 'Turn devices on' }).click();
    await panelShows(b, () => panelB.locator('.devices-qr svg').waitFor({ timeout: 60_000 }));
    const pairField = panelB.getByLabel('Pair with another device: paste its link');
    await expect(pairField.inputValue()).resolves.toBe(link);

    await pairField.fill('https://example.org/#nothing');
    await panelB.getByRole('button', { name: 'Pair' }).click();
    await expect(panelB.getByRole('alert').textContent()).resolves.toContain('not a webmk pairing link');

    await pairField.fill(link);
    await panelB.getByRole('button', { name: 'Pair' }).click();
    await panelShows(b, () => panelB.locator('.devices-list li', { hasText: 'connected' }).filter({ hasNotText: 'not connected' }).waitFor({ timeout: 60_000 }));
    await panelShows(a, () => panelA.locator('.devices-list li', { hasText: 'connected' }).filter({ hasNotText: 'not connected' }).waitFor({ timeout: 60_000 }));
    const idA = await a.page.evaluate(() => window.webmkDevices.current?.id);
    expect(await panelB.locator('.devices-list li').getAttribute('data-peer')).toBe(idA);
    // A used link is spent; "New link" makes another.
    await panelA.getByRole('button', { name: 'New link' }).click();
    await expect.poll(() => panelA.getByLabel('Pairing link (one use)').inputValue()).not.toBe(link);

    await panelA.scrollIntoViewIfNeeded();
    await a.page.screenshot({ path: `${SHOTS}/webmk-devices-panel-desktop.png` });
    await panelA.screenshot({ path: `${SHOTS}/webmk-devices-panel.png` });
    await b.page.setViewportSize({ width: 360, height: 800 });
    await panelB.scrollIntoViewIfNeeded();
    await b.page.screenshot({ path: `${SHOTS}/webmk-devices-panel-360.png` });
    // At phone width the panel stays inside the screen.
    const box = await panelB.boundingBox();
    expect(box !== null && box.x >= 0 && box.x + box.width <= 360).toBe(true);
    const overflow = await panelB.evaluate((el) => [...el.querySelectorAll('p, code, label')].some((n) => n.getBoundingClientRect().right > 360));
    expect(overflow).toBe(false);
  }, 180_000);

  it('forgets a paired device', async () => {
    const panelA = a.page.locator('webmk-devices-panel');
    await panelA.locator('.devices-list li button', { hasText: 'Forget' }).click();
    await panelA.getByText('None yet.').waitFor();
    await expect(a.page.evaluate(async () => (await window.webmkDevices.current!.paired()).length)).resolves.toBe(0);
  }, 60_000);
});
