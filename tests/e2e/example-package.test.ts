/** The example package `sensors` (the bus trio, signed with the published test key), as the app serves it. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { output, run, startBackground, waitExit, waitOutput } from './kernel-helpers';

const TEST_KEY = readFileSync(resolve(import.meta.dirname, '../../modules/packages/sensors-test-key.pub'), 'utf8').trim();

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the sensors package', () => {
  it('installs from the app, signed by the test key once trusted, and the trio carries readings', async () => {
    const installed = await page.evaluate(async (key) => {
      const zip = new Uint8Array(await (await fetch('modules/sensors.zip')).arrayBuffer());
      const refused = await window.kernel.install(zip).then(() => 'installed', (e: { code: string }) => e.code);
      await window.kernel.trust.add(key, { label: 'webmk example test key' });
      const mods = (await window.kernel.install(zip, { grant: 'all' })) as unknown as Array<{ name: string }>;
      return { refused, names: mods.map((m) => m.name), pkg: (await window.kernel.packages()).find((p) => p.name === 'sensors') };
    }, TEST_KEY);
    expect(installed.refused).toBe('registry/untrusted');
    expect(installed.names).toEqual(['ticker', 'fahrenheit', 'logger']);
    expect(installed.pkg).toMatchObject({ version: '1.0.0', signature: 'trusted', publisher: TEST_KEY });

    const logger = await startBackground(page, 'logger', ['sensors/*', '4']);
    await waitOutput(page, logger, 'listening on sensors/*');
    const fahrenheit = await startBackground(page, 'fahrenheit', ['2']);
    await waitOutput(page, fahrenheit, 'sensors/temp -> sensors/temp-f');
    const ticker = await run(page, 'ticker', { args: ['50', '2', '7'] });
    expect(ticker.code).toBe(0);
    expect(await waitExit(page, fahrenheit)).toBe(0);
    expect(await waitExit(page, logger)).toBe(0);
    const log = (await output(page, logger)).trim().split('\n');
    expect(log.filter((l) => l.startsWith('sensors/temp-f: '))).toHaveLength(2);
  });
});
