#!/usr/bin/env node
/**
 * `node bench/gfx-bench.mjs [--seconds N] [--json FILE]`: graphics figures, measured in the built
 * app (the shell mounts the windows, as a person sees them) in a fresh headless Chromium.
 *
 * - frames/s presented at 640x480 and 1280x720 by a wasm module (tests/fixtures/gfx-probe.wasm,
 *   `bench W H SECS`: flip one row, present, repeat) against a raw worker that owns an
 *   OffscreenCanvas and puts the same frames with putImageData, paced by its requestAnimationFrame.
 * - input latency from a keydown dispatched on the window's canvas to the module seeing it in
 *   `webmk_input_poll`, for a module paced by its presents and for one that polls in a loop,
 *   against a raw worker that gets the event by postMessage (seen at its next animation frame,
 *   or at once).
 *
 * - the page while 20 small windows present at once: its longest long task, the worst setTimeout(0)
 *   gap and the frames/s of all, against 20 raw OffscreenCanvas workers.
 *
 * Prints a table like bench/run.mjs and writes bench/results/gfx.json (rows in run.mjs's shape).
 * Needs the example modules built (`bash modules/build.sh`); builds the app into a temp folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, runnerImport } from 'vite';
import { chromium } from 'playwright-core';
import { folder, serveStatic } from './lib/serve.mjs';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '..');
const RESULTS = join(HERE, 'results');
const PROBE = join(ROOT, 'tests/fixtures/gfx-probe.wasm');
const SIZES = [
  [640, 480],
  [1280, 720],
];
const ROUNDS = 2;
const LATENCY_SAMPLES = 60;
/** Windows presenting at once in the windows figure. */
const WINDOWS = 20;
/** Samples dropped at the start of each latency run (worker start-up, first compiles). */
const WARMUP = 5;

function args() {
  const a = process.argv.slice(2);
  const get = (flag, d) => {
    const i = a.indexOf(flag);
    return i >= 0 && a[i + 1] !== undefined ? a[i + 1] : d;
  };
  return { seconds: Number(get('--seconds', '3')), json: get('--json', join(RESULTS, 'gfx.json')) };
}


const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const row = (r) => ({ ...r, ratio: r.webmk !== null && r.raw ? r.webmk / r.raw : null });

/** Spawns gfx-probe with `args`; resolves with its pid. Its stdout collects in globalThis.out[pid]. */
function spawnProbe(page, probeArgs) {
  return page.evaluate(async (a) => {
    const p = await window.kernel.spawn('gfx-probe', { args: a });
    const out = (globalThis.out ??= {});
    out[p.pid] = '';
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of p.stdout) out[p.pid] += dec.decode(chunk, { stream: true });
    })();
    return p.pid;
  }, probeArgs);
}

async function waitOut(page, pid, source, timeout = 60_000) {
  const h = await page.waitForFunction(([p, s]) => new RegExp(s, 'm').exec(globalThis.out?.[p] ?? '')?.slice(1) ?? false, [pid, source], { timeout });
  return h.jsonValue();
}

/** The raw baseline worker: owns an OffscreenCanvas, puts frames, or sees posted events. */
const RAW_WORKER = `
let ctx, img, u32, w, h;
const frame = () => new Promise((r) => requestAnimationFrame(r));
const realtime = () => performance.timeOrigin + performance.now();
let queue = [], mode = 'idle';
onmessage = async ({ data }) => {
  if (data.type === 'canvas') {
    ({ w, h } = data);
    ctx = data.canvas.getContext('2d', { alpha: false });
    const buf = new Uint8ClampedArray(w * h * 4);
    u32 = new Uint32Array(buf.buffer);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++)
      u32[y * w + x] = y < h / 2 ? (x < w / 2 ? 0xff0000ff : 0xff00ff00) : (x < w / 2 ? 0xffff0000 : 0xffffffff);
    img = new ImageData(buf, w, h);
    postMessage({ type: 'ready' });
  } else if (data.type === 'frames') {
    let frames = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < data.seconds * 1000) {
      const row = (frames % h) * w;
      for (let x = 0; x < w; x++) u32[row + x] ^= 0x00ffffff;
      ctx.putImageData(img, 0, 0);
      await frame();
      frames++;
      t = performance.now();
    }
    let unpaced = 0;
    const u0 = performance.now();
    while (performance.now() - u0 < 1000) { u32[unpaced % (w * h)] ^= 0x00ffffff; ctx.putImageData(img, 0, 0); unpaced++; }
    postMessage({ type: 'frames', frames, seconds: (t - t0) / 1000, unpaced });
  } else if (data.type === 'latency') {
    mode = data.mode;
    if (mode === 'paced') {
      (async () => { while (mode === 'paced') { const seen = realtime(); for (const k of queue.splice(0)) postMessage({ type: 'seen', key: k, at: seen }); ctx.putImageData(img, 0, 0); await frame(); } })();
    }
  } else if (data.type === 'key') {
    if (mode === 'paced') queue.push(data.key); else postMessage({ type: 'seen', key: data.key, at: realtime() });
  } else if (data.type === 'stop') {
    mode = 'idle';
  }
};`;

/** Puts a raw worker with its own canvas (same CSS size as `css`) on the page. */
async function startRaw(page, w, h, css) {
  await page.evaluate(
    async ([src, w, h, css]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      canvas.style.cssText = `position:fixed;left:40px;top:80px;width:${css.width}px;height:${css.height}px;z-index:50`;
      document.body.append(canvas);
      const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
      const off = canvas.transferControlToOffscreen();
      worker.postMessage({ type: 'canvas', canvas: off, w, h }, [off]);
      await new Promise((ok) => (worker.onmessage = () => ok()));
      globalThis.raw = { worker, canvas };
    },
    [RAW_WORKER, w, h, css],
  );
}

async function stopRaw(page) {
  await page.evaluate(() => {
    globalThis.raw?.worker.terminate();
    globalThis.raw?.canvas.remove();
    globalThis.raw = undefined;
  });
}

async function rawFrames(page, seconds) {
  return page.evaluate(
    (s) =>
      new Promise((ok) => {
        globalThis.raw.worker.onmessage = ({ data }) => data.type === 'frames' && ok(data);
        globalThis.raw.worker.postMessage({ type: 'frames', seconds: s });
      }),
    seconds,
  );
}

/** The CSS size of a process's canvas in the shell. */
async function cssSize(page, pid) {
  const box = await page.locator(`webmk-gfx-window[data-pid="${pid}"] canvas`).boundingBox();
  return { width: Math.round(box?.width ?? 320), height: Math.round(box?.height ?? 240) };
}

async function framesFigure(page, seconds) {
  const rows = [];
  const detail = {};
  for (const [w, h] of SIZES) {
    const webmk = [];
    const raw = [];
    const unpaced = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const pid = await spawnProbe(page, ['bench', String(w), String(h), String(seconds)]);
      await page.locator(`webmk-gfx-window[data-pid="${pid}"] canvas`).waitFor();
      const css = await cssSize(page, pid);
      const [frames, secs] = await waitOut(page, pid, '^frames (\\d+) seconds ([\\d.]+)$', seconds * 1000 + 30_000);
      webmk.push(Number(frames) / Number(secs));
      await page.locator(`webmk-gfx-window[data-pid="${pid}"]`).waitFor({ state: 'detached' });
      await startRaw(page, w, h, css);
      const r = await rawFrames(page, seconds);
      raw.push(r.frames / r.seconds);
      unpaced.push(r.unpaced);
      await stopRaw(page);
    }
    const id = `gfx.${w}x${h}`;
    detail[id] = { webmk, raw, rawUnpacedPutsPerSecond: unpaced };
    rows.push(
      row({
        id,
        figure: `frames/s presented, ${w}x${h} RGBA (wasm present vs worker putImageData + rAF)`,
        unit: 'frames/s',
        better: 'higher',
        webmk: median(webmk),
        baseline: 'raw OffscreenCanvas worker loop',
        raw: median(raw),
        target: { op: '>=', ratio: 0.9 },
        note: `both paced by the display; an unpaced raw putImageData loop reaches ${Math.round(median(unpaced))}/s at this size`,
      }),
    );
  }
  return { rows, detail };
}

/** Dispatches keydowns on `target()` (the page side) and pairs them with when they were seen. */
async function dispatchKeys(page, selector, samples) {
  return page.evaluate(
    async ([sel, n]) => {
      const sent = [];
      for (let i = 0; i < n; i += 1) {
        await new Promise((ok) => setTimeout(ok, 20 + Math.random() * 40));
        const key = String.fromCharCode(97 + (i % 26));
        const at = performance.timeOrigin + performance.now();
        if (sel === 'raw') globalThis.raw.worker.postMessage({ type: 'key', key: key.charCodeAt(0) });
        else document.querySelector(sel)?.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
        sent.push([key.charCodeAt(0), at]);
      }
      await new Promise((ok) => setTimeout(ok, 200));
      return sent;
    },
    [selector, samples],
  );
}

/** Latencies in ms: each send paired with the next "seen" of the same key, in order. */
function pair(sent, seen) {
  const out = [];
  let j = 0;
  for (const [key, at] of sent) {
    while (j < seen.length && seen[j][0] !== key) j += 1;
    if (j < seen.length) out.push(seen[j][1] - at);
    j += 1;
  }
  return out;
}

async function latencyFigure(page) {
  const rows = [];
  const detail = {};
  for (const mode of ['paced', 'busy']) {
    const pid = await spawnProbe(page, mode === 'busy' ? ['latency', 'busy'] : ['latency']);
    await waitOut(page, pid, '^open (0)$');
    const sel = `webmk-gfx-window[data-pid="${pid}"] canvas`;
    await page.locator(sel).waitFor();
    const sent = await dispatchKeys(page, sel, LATENCY_SAMPLES);
    const out = await page.evaluate((p) => globalThis.out[p], pid);
    const seen = [...out.matchAll(/^seen (\d+) (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2]) / 1e6]);
    const webmk = pair(sent, seen).slice(WARMUP);
    await page.evaluate((p) => window.kernel.kill(p), pid);

    await startRaw(page, 320, 240, { width: 320, height: 240 });
    const rawSeen = [];
    await page.evaluate(() => {
      globalThis.rawSeen = [];
      globalThis.raw.worker.onmessage = ({ data }) => data.type === 'seen' && globalThis.rawSeen.push([data.key, data.at]);
    });
    await page.evaluate((m) => globalThis.raw.worker.postMessage({ type: 'latency', mode: m }), mode);
    const rawSent = await dispatchKeys(page, 'raw', LATENCY_SAMPLES);
    rawSeen.push(...(await page.evaluate(() => globalThis.rawSeen)));
    const raw = pair(rawSent, rawSeen).slice(WARMUP);
    await stopRaw(page);

    const what = mode === 'paced' ? 'a module that polls once per present (60 Hz)' : 'a module that polls in a loop';
    for (const [q, name] of [
      [0.5, 'p50'],
      [0.95, 'p95'],
    ]) {
      rows.push(
        row({
          id: `input.${mode}.${name}`,
          figure: `input latency ${name}, keydown dispatched on the canvas to ${what}`,
          unit: 'ms',
          better: 'lower',
          webmk: quantile(webmk, q),
          baseline: mode === 'paced' ? 'postMessage to a worker, seen at its next rAF' : 'postMessage to a worker, seen in onmessage',
          raw: quantile(raw, q),
        }),
      );
    }
    detail[`input.${mode}`] = { webmk, raw };
  }
  return { rows, detail };
}

/** Starts watching the page: its long tasks and the worst gap between setTimeout(0) callbacks. */
async function watchPage(page) {
  await page.evaluate(() => {
    const w = { tasks: [], gap: 0, stopped: false };
    w.observer = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) w.tasks.push(e.duration);
    });
    w.observer.observe({ type: 'longtask' });
    let last = performance.now();
    const tick = () => {
      const t = performance.now();
      w.gap = Math.max(w.gap, t - last);
      last = t;
      if (!w.stopped) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    globalThis.jank = w;
  });
}

/** Stops watching (after a moment for late long-task entries): the longest task (0: none over 50 ms) and the worst gap. */
async function stopWatch(page) {
  return page.evaluate(async () => {
    await new Promise((ok) => setTimeout(ok, 150));
    const w = globalThis.jank;
    w.stopped = true;
    for (const e of w.observer.takeRecords()) w.tasks.push(e.duration);
    w.observer.disconnect();
    return { longestTask: Math.max(0, ...w.tasks), longTasks: w.tasks.length, maxTimeoutGap: w.gap };
  });
}

/** Small windows presenting at once: the page's longest task and frames/s in all, beside raw canvas workers. */
async function windowsFigure(page, seconds) {
  const [w, h] = [320, 240];
  await watchPage(page);
  const pids = [];
  for (let i = 0; i < WINDOWS; i += 1) pids.push(await spawnProbe(page, ['bench', String(w), String(h), String(seconds)]));
  const done = await Promise.all(pids.map((pid) => waitOut(page, pid, '^frames (\\d+) seconds ([\\d.]+)$', seconds * 1000 + 60_000)));
  const webmkJank = await stopWatch(page);
  const webmkFps = done.reduce((sum, [f, s]) => sum + Number(f) / Number(s), 0);
  for (const pid of pids) await page.locator(`webmk-gfx-window[data-pid="${pid}"]`).waitFor({ state: 'detached' });

  await page.evaluate(
    async ([src, n, w, h]) => {
      globalThis.raws = [];
      for (let i = 0; i < n; i += 1) {
        const canvas = document.createElement('canvas');
        canvas.width = w;
        canvas.height = h;
        canvas.style.cssText = `position:fixed;left:${40 + (i % 5) * 300}px;top:${80 + Math.floor(i / 5) * 220}px;width:${w * 0.8}px;height:${h * 0.8}px;z-index:50`;
        document.body.append(canvas);
        const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
        const off = canvas.transferControlToOffscreen();
        worker.postMessage({ type: 'canvas', canvas: off, w, h }, [off]);
        await new Promise((ok) => (worker.onmessage = () => ok()));
        globalThis.raws.push({ worker, canvas });
      }
    },
    [RAW_WORKER, WINDOWS, w, h],
  );
  await watchPage(page);
  const raw = await page.evaluate(
    (s) =>
      Promise.all(
        globalThis.raws.map(
          ({ worker }) =>
            new Promise((ok) => {
              worker.onmessage = ({ data }) => data.type === 'frames' && ok(data);
              worker.postMessage({ type: 'frames', seconds: s });
            }),
        ),
      ),
    seconds,
  );
  const rawJank = await stopWatch(page);
  await page.evaluate(() => {
    for (const r of globalThis.raws) {
      r.worker.terminate();
      r.canvas.remove();
    }
  });
  const rawFps = raw.reduce((sum, r) => sum + r.frames / r.seconds, 0);
  const figure = `${WINDOWS} windows of ${w}x${h} presenting at once`;
  const baseline = `${WINDOWS} raw workers, each with its OffscreenCanvas, putImageData + rAF`;
  return {
    rows: [
      row({ id: 'windows.longtask', figure: `${figure}: the page's longest long task`, unit: 'ms', better: 'lower', webmk: webmkJank.longestTask, baseline, raw: rawJank.longestTask, note: '0 = no task over 50 ms' }),
      row({ id: 'windows.gap', figure: `${figure}: max setTimeout(0) gap`, unit: 'ms', better: 'lower', webmk: webmkJank.maxTimeoutGap, baseline, raw: rawJank.maxTimeoutGap }),
      row({ id: 'windows.fps', figure: `${figure}: frames/s in all`, unit: 'frames/s', better: 'higher', webmk: webmkFps, baseline, raw: rawFps }),
    ],
    detail: { windows: { webmk: { ...webmkJank, fps: webmkFps }, raw: { ...rawJank, fps: rawFps } } },
  };
}

const fmt = (x, unit) => (x === null || !Number.isFinite(x) ? 'n/a' : unit === 'ms' ? x.toFixed(2) : x.toFixed(1));
function table(rows) {
  const lines = [
    '| figure | webmk | raw baseline | ratio webmk/raw | target |',
    '|---|---|---|---|---|',
    ...rows.map((r) => {
      const ratio = r.ratio === null ? 'n/a' : `${r.ratio.toFixed(3)}×`;
      const met = r.target === undefined ? '—' : `≥ ${r.target.ratio}× (${r.ratio !== null && r.ratio >= r.target.ratio ? 'met' : 'missed'})`;
      return `| ${r.figure} | ${fmt(r.webmk, r.unit)} ${r.unit} | ${fmt(r.raw, r.unit)} ${r.unit} (${r.baseline}) | ${ratio} | ${met} |`;
    }),
  ];
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note}`);
  return [...lines, '', ...notes].join('\n');
}

async function main() {
  const opts = args();
  if (!existsSync(PROBE)) throw new Error(`${PROBE} is missing: run bash modules/build.sh`);
  const started = Date.now();
  const out = mkdtempSync(join(tmpdir(), 'webmk-gfx-bench-'));
  console.error('gfx-bench: building the app ...');
  await build({ configFile: join(ROOT, 'vite.config.ts'), root: ROOT, logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
  const server = await serveStatic(folder(out));
  const { module: harness } = await runnerImport(join(ROOT, 'tests/e2e/harness.ts'), { configFile: false, logLevel: 'error' });
  const profile = mkdtempSync(join(tmpdir(), 'webmk-gfx-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: harness.findChromium(), headless: true, args: harness.CHROMIUM_ARGS, viewport: { width: 1600, height: 1000 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('[pageerror]', e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => globalThis.crossOriginIsolated && 'kernel' in globalThis, undefined, { timeout: 30_000 });
    await page.evaluate(() => window.kernel.ready);
    await page.evaluate(async (bytes) => void (await window.kernel.install(new Uint8Array(bytes), { name: 'gfx-probe' })), [...readFileSync(PROBE)]);
    console.error('gfx-bench: frames ...');
    const frames = await framesFigure(page, opts.seconds);
    console.error('gfx-bench: input latency ...');
    const latency = await latencyFigure(page);
    console.error(`gfx-bench: ${WINDOWS} windows ...`);
    const windows = await windowsFigure(page, opts.seconds);
    const rows = [...frames.rows, ...latency.rows, ...windows.rows];
    const report = {
      date: new Date().toISOString(),
      command: `node bench/gfx-bench.mjs${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
      chromium: context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent)),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      renderer: 'headless, --disable-gpu (software compositing)',
      totalSeconds: (Date.now() - started) / 1000,
      rows,
      detail: { ...frames.detail, ...latency.detail, ...windows.detail },
    };
    mkdirSync(resolve(opts.json, '..'), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(table(rows));
    console.log(`\n${report.chromium}, ${report.cpus} × ${report.cpuModel}; ${report.totalSeconds.toFixed(0)} s; ${opts.json}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    await server.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
