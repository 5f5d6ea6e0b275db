/**
 * Devices under test: a relay and the built app served inside a namespace (netns.ts), and
 * Chromium processes in it standing in for devices, each with the flags and permission that
 * make Chromium offer loopback ICE candidates (FACTS.md, "Remote").
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from './harness';
import { firstLine, type Namespace } from './netns';

const ROOT = resolve(import.meta.dirname, '../..');

/** The relay and app server in a namespace. */
export interface DeviceWorld {
  relay: string;
  url: string;
}

/** Starts the relay (`npm run relay`'s script) and `vite preview` of dist/ inside `ns`. */
export async function startWorld(ns: Namespace): Promise<DeviceWorld> {
  const relayProc = ns.spawn(process.execPath, ['scripts/relay.mjs', '--port', '9090'], ROOT);
  const relay = firstLine(relayProc, (line) => {
    if (!line.startsWith('{')) return undefined;
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && 'relay' in v && typeof v.relay === 'string' ? v.relay : undefined;
  });
  // A fresh namespace has every port free: fixed ones are safe here.
  const preview = ns.spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--port', '4173', '--strictPort', '--host', '127.0.0.1'], ROOT);
  const url = firstLine(preview, (line) => (line.includes('4173') ? 'http://127.0.0.1:4173/' : undefined));
  const [r, u] = await Promise.all([relay, url]);
  return { relay: r, url: u };
}

/** One device: its own Chromium process and a page of the app. */
export interface Device {
  browser: Browser;
  page: Page;
  /** Kills the browser process outright (SIGKILL): a device that vanishes. */
  kill(): void;
}

/** Launches a Chromium process in `ns` and opens the app in it. */
export async function launchDevice(ns: Namespace, url: string, name: string): Promise<Device> {
  const executable = ns.wrap(findChromium());
  const browser = await chromium.launch({
    executablePath: executable,
    headless: true,
    args: [...CHROMIUM_ARGS, '--allow-loopback-in-peer-connection'],
  });
  // Without a media permission Chromium gathers no loopback candidates at all.
  const context = await browser.newContext({ permissions: ['microphone', 'camera'] });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name} pageerror]`, e.message));
  await page.goto(url);
  await page.waitForFunction(() => 'webmkDevices' in globalThis, undefined, { timeout: 30_000 });
  const pid = Number(readFileSync(`${executable}.pid`, 'utf8').trim());
  return { browser, page, kill: () => process.kill(pid, 'SIGKILL') };
}

/** Turns devices on in `page` with `relay`; resolves with this device's peer id. */
export async function turnOn(page: Page, relay: string): Promise<string> {
  return page.evaluate(async (r) => {
    const d = await window.webmkDevices.start({ relay: r });
    // Every link event is kept for the test to look at.
    const w = window as unknown as { deviceEvents: Array<{ type: string; peer?: string; reason?: string; undelivered?: number }> };
    w.deviceEvents = [];
    d.subscribe((e) => {
      if (e.type === 'link') w.deviceEvents.push({ type: 'link', peer: e.link.peer });
      else if (e.type === 'ended') w.deviceEvents.push({ type: 'ended', peer: e.peer, reason: e.end.reason, undelivered: e.end.undelivered });
      else w.deviceEvents.push({ type: e.type, peer: e.peer });
    });
    return d.id;
  }, relay);
}

/** Waits until `page` has seen `count` events of `type` for `peer`. */
export async function waitEvent(page: Page, type: string, peer: string, count = 1, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    ([t, p, n]) => {
      const w = window as unknown as { deviceEvents?: Array<{ type: string; peer?: string }> };
      return (w.deviceEvents ?? []).filter((e) => e.type === t && e.peer === p).length >= (n as number);
    },
    [type, peer, count] as const,
    { timeout, polling: 100 },
  );
}
