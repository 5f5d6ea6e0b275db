/**
 * The Devices panel, as a person uses it: two devices (two Chromium processes, a relay on
 * 127.0.0.1, in a network namespace of the test's making) turned on from the panel, paired by
 * pasting one's link into the other, listed as connected on both sides; a bad link is refused
 * with a message; forgetting empties the list. Screenshots wide and at phone width.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  }, 120_000);

  afterAll(async () => {
    await a?.browser.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    ns?.close();
  });

  async function turnOnFromPanel(d: Device): Promise<void> {
    const panel = d.page.locator('webmk-devices-panel');
    await panel.getByLabel('Relay address').fill(world.relay);
    await panel.getByRole('button', { name: 'Turn devices on' }).click();
    await panel.locator('.devices-qr svg').waitFor({ timeout: 60_000 });
  }

  it('turns devices on, pairs two devices by pasting a link, and lists each as connected', async () => {
    await Promise.all([turnOnFromPanel(a), turnOnFromPanel(b)]);
    const panelA = a.page.locator('webmk-devices-panel');
    const panelB = b.page.locator('webmk-devices-panel');
    const link = await panelA.getByLabel('Pairing link (one use)').inputValue();
    expect(link).toMatch(/#pair=12D3Koo\w+&relay=.+&secret=[\w-]+$/);

    await panelB.getByLabel('Pair with another device: paste its link').fill('https://example.org/#nothing');
    await panelB.getByRole('button', { name: 'Pair' }).click();
    await expect(panelB.getByRole('alert').textContent()).resolves.toContain('not a webmk pairing link');

    await panelB.getByLabel('Pair with another device: paste its link').fill(link);
    await panelB.getByRole('button', { name: 'Pair' }).click();
    await panelB.locator('.devices-list li', { hasText: 'connected' }).filter({ hasNotText: 'not connected' }).waitFor({ timeout: 60_000 });
    await panelA.locator('.devices-list li', { hasText: 'connected' }).filter({ hasNotText: 'not connected' }).waitFor({ timeout: 60_000 });
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
