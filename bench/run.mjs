#!/usr/bin/env node
/**
 * `npm run bench [-- figure ...]`: builds the bench page, serves it cross-origin isolated on
 * 127.0.0.1, runs each figure in a fresh headless Chromium, prints a table and writes
 * bench/results/latest.json. Figures: spawn, stdout, stdin, storm, kill, bus, supervision, iframe,
 * iframe-bus, services, import-group, kv, remote, remote-window, migrate, and graphics (bench/gfx-bench.mjs, run after the others); default: all.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, runnerImport } from 'vite';
import { chromium } from 'playwright-core';
import { serveStatic } from './lib/serve.mjs';
import { exposeMemory } from './lib/cdp-memory.mjs';

const HERE = import.meta.dirname;
const DIST = join(HERE, 'dist');
const MODULES = resolve(HERE, '../public/modules');
const FIXTURES = resolve(HERE, '../tests/fixtures');
const RESULTS = join(HERE, 'results');
const ALL = ['spawn', 'stdout', 'stdin', 'storm', 'stall', 'kill', 'bus', 'supervision', 'iframe', 'iframe-bus', 'leaks', 'services', 'import-group', 'kv', 'packages', 'files', 'remote', 'remote-window', 'migrate', 'wall'];
/** The graphics figures: bench/gfx-bench.mjs, in the built app, after the page figures. */
const GRAPHICS = 'graphics';
/** The devices figures: bench/devices-bench.mjs, two browsers and a relay, after the graphics. */
const DEVICES = 'devices';


/** The Chromium the end-to-end tests use ($CHROME_PATH or the usual install paths), and their flags. */
async function systemChromium() {
  const { module } = await runnerImport(resolve(HERE, '../tests/e2e/harness.ts'), { configFile: false, logLevel: 'error' });
  return { path: module.findChromium(), args: module.CHROMIUM_ARGS };
}

const fmtNumber = (x, unit) => {
  if (x === null || !Number.isFinite(x)) return 'n/a';
  if (unit === 'ms') return x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0);
  return Math.round(x).toLocaleString('en-US');
};
const fmtRatio = (r) => (r === null || !Number.isFinite(r) ? 'n/a' : `${r < 0.1 ? r.toFixed(4) : r < 10 ? r.toFixed(3) : r.toFixed(1)}×`);
function fmtTarget(row) {
  if (row.target === undefined) return '—';
  const met = row.ratio !== null && (row.target.op === '<=' ? row.ratio <= row.target.ratio : row.ratio >= row.target.ratio);
  return `${row.target.op === '<=' ? '≤' : '≥'} ${row.target.ratio}× (${met ? 'met' : 'missed'})`;
}

const fmtPeer = (r) => (r.peer === undefined ? '—' : `${fmtNumber(r.peer.value, r.unit)} ${r.unit} (${r.peer.name})`);

function table(rows, parts) {
  const lines = [
    '| figure | webmk | raw baseline | ratio webmk/raw | peer | ratio webmk/peer | target |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      `| ${r.figure} | ${fmtNumber(r.webmk, r.unit)} ${r.unit} | ${fmtNumber(r.raw, r.unit)} ${r.unit} (${r.baseline}) | ${fmtRatio(r.ratio)} | ${fmtPeer(r)} | ${r.peer === undefined ? '—' : fmtRatio(r.peer.ratio)} | ${fmtTarget(r)} |`),
  ];
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note}`);
  const breakdown = parts.map((p) => `- ${p.id}: ${p.what}: ${fmtNumber(p.value, p.unit)} ${p.unit}`);
  return [...lines, '', 'Notes:', ...notes, '', 'Breakdown (webmk only):', ...breakdown].join('\n');
}

/** Runs the page figures `figures` (`asked` is what the command line named). */
async function pageFigures(figures, asked) {
  const started = Date.now();
  const loadBefore = loadavg();
  console.error('bench: building bench/dist ...');
  // BENCH_PROFILE=<file>: an unminified build and a CPU profile of the page (Chrome DevTools format).
  const profileTo = process.env.BENCH_PROFILE;
  await build({ configFile: join(HERE, 'vite.config.ts'), logLevel: 'warn', ...(profileTo ? { build: { minify: false } } : {}) });
  const server = await serveStatic((path) =>
    path.startsWith('/modules/')
      ? [MODULES, path.slice('/modules/'.length)]
      : path.startsWith('/fixtures/')
        ? [FIXTURES, path.slice('/fixtures/'.length)]
        : [DIST, path.slice(1)],
  );
  const profile = mkdtempSync(join(tmpdir(), 'webmk-bench-'));
  const browser = await systemChromium();
  const context = await chromium.launchPersistentContext(profile, { executablePath: browser.path, headless: true, args: browser.args });
  const out = { rows: [], breakdown: [], detail: {}, seconds: {} };
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('[pageerror]', e.message));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}]`, m.text()); });
    // window.benchMemory(): what hibernation lets go, as the browser sees it (the migrate figure).
    await exposeMemory(context, page, profile);
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    if (!(await page.evaluate(() => globalThis.crossOriginIsolated))) throw new Error('the bench page is not cross-origin isolated');
    const cdp = profileTo ? await context.newCDPSession(page) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    for (const f of figures) {
      const t0 = Date.now();
      console.error(`bench: ${f} ...`);
      const res = await page.evaluate((name) => window.bench.run(name), f);
      out.rows.push(...res.rows);
      out.breakdown.push(...res.breakdown);
      out.detail[f] = res.detail;
      out.seconds[f] = (Date.now() - t0) / 1000;
      console.error(`bench: ${f} done in ${out.seconds[f].toFixed(1)} s`);
    }
    if (cdp) {
      const { profile: cpu } = await cdp.send('Profiler.stop');
      writeFileSync(profileTo, JSON.stringify(cpu));
      console.error(`bench: the page's CPU profile is in ${profileTo}`);
    }
    const browser = context.browser();
    const report = {
      date: new Date().toISOString(),
      command: `npm run bench${asked.length > 0 ? ` -- ${asked.join(' ')}` : ''}`,
      chromium: browser?.version() ?? (await page.evaluate(() => navigator.userAgent)),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      platform: `${process.platform} ${process.arch}`,
      // Other work on the machine moves every figure: worth knowing when comparing runs.
      loadavg: { before: loadBefore, after: loadavg() },
      totalSeconds: (Date.now() - started) / 1000,
      ...out,
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(table(out.rows, out.breakdown));
    const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
    console.log(`\nChromium ${report.chromium}, ${report.cpus} × ${report.cpuModel}, load average ${load(loadBefore)} -> ${load(report.loadavg.after)}; ${report.totalSeconds.toFixed(0)} s; bench/results/latest.json`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await server.close();
  }
}

/** The page figures asked for, or all; then the graphics figures if asked for, or if none was named. */
async function main() {
  const asked = process.argv.slice(2);
  const known = [...ALL, GRAPHICS, DEVICES];
  for (const f of asked) if (!known.includes(f)) throw new Error(`unknown figure "${f}"; figures: ${known.join(', ')}`);
  const figures = asked.length > 0 ? asked.filter((f) => f !== GRAPHICS && f !== DEVICES) : ALL;
  if (figures.length > 0) await pageFigures(figures, asked);
  if (asked.length === 0 || asked.includes(GRAPHICS)) {
    const gfx = spawnSync(process.execPath, [join(HERE, 'gfx-bench.mjs')], { stdio: 'inherit' });
    if (gfx.status !== 0) throw new Error(`bench/gfx-bench.mjs failed (${gfx.status ?? gfx.signal})`);
  }
  if (asked.length === 0 || asked.includes(DEVICES)) {
    const dev = spawnSync(process.execPath, [join(HERE, 'devices-bench.mjs')], { stdio: 'inherit' });
    if (dev.status !== 0) throw new Error(`bench/devices-bench.mjs failed (${dev.status ?? dev.signal})`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
