import { it } from 'vitest';
import { launchBrowser, openApp, startServer } from './harness';
it('probe', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const page = await openApp(browser.context, server.url);
  const other = await browser.context.newPage();
  await other.goto('about:blank');
  await other.bringToFront();
  const r = await page.evaluate(async () => {
    const vis = document.visibilityState;
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await new Promise((ok) => setTimeout(ok, 10));
    const timers = performance.now() - t0;
    const w = new Int32Array(new SharedArrayBuffer(4));
    const t1 = performance.now();
    for (let i = 0; i < 5; i++) { const x = Atomics.waitAsync(w, 0, 0, 10); if (x.async) await x.value; }
    const wa = performance.now() - t1;
    return { vis, timers, wa };
  });
  console.log('PROBE', JSON.stringify(r));
  await browser.close(); await server.close();
});
