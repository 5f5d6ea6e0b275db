#!/usr/bin/env node
/**
 * `node bench/devices-bench.mjs [--json FILE]` (`npm run bench -- devices`): the devices figures,
 * two Chromium processes (two devices) and the relay on 127.0.0.1, each figure beside a raw
 * RTCDataChannel between the same two browsers in the same run:
 *
 * - connect: `pair(link)` (relay dial, WebRTC, handshake) against a raw RTCPeerConnection from
 *   createOffer to its data channel open (SDP carried by this script, non-trickle);
 * - 64-byte round trip over the Link (p50, p95; 1000 after 50 warm-up) against the raw channel;
 * - bulk: 32 MiB in 64 KiB messages, waiting on `writable()`, against the raw channel waiting on
 *   `bufferedAmount`;
 * - a process on the device: 64-byte stdin -> stdout round trips through `cat` there, bus
 *   publish -> answer through `busbench pong` there, and 32 MiB through `cat` there and back,
 *   against the raw channel's echo and one-way bulk;
 * - time to notice a killed browser: the Link's `ended` against the raw connection's state;
 * - the gzip size of the libp2p chunk, beside the app's entry chunk.
 *
 * It re-runs itself inside `unshare -n` (only loopback: nothing leaves the machine) when it can;
 * where it cannot, it says so and runs on the machine's loopback. Writes bench/results/devices.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, runnerImport } from 'vite';
import { chromium } from 'playwright-core';
import { folder, serveStatic } from './lib/serve.mjs';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '..');
const RESULTS = join(HERE, 'results');
const ROUND_TRIPS = 1000;
const WARMUP = 50;
const BULK = 32 * 1024 * 1024;
const CHUNK = 64 * 1024;

if (process.env.WEBMK_BENCH_NETNS === undefined) {
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (probe.status === 0) {
    const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, WEBMK_BENCH_NETNS: '1' },
    });
    process.exit(r.status ?? 1);
  }
  console.error(`devices-bench: no network namespace here (${(probe.stderr || probe.error?.message || '').trim()}); running on this machine's loopback`);
  process.env.WEBMK_BENCH_NETNS = '0';
}


function startRelay() {
  const child = spawn(process.execPath, [join(ROOT, 'scripts/relay.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d.toString();
      const line = text.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) ok({ child, relay: JSON.parse(line).relay });
    });
    child.on('exit', (code) => fail(new Error(`the relay exited (${code})`)));
  });
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const row = (r) => ({ ...r, ratio: r.webmk !== null && r.raw !== null && r.raw !== 0 ? r.webmk / r.raw : null });

/** In-page helpers, installed in both pages: a raw RTCPeerConnection and the measuring loops. */
function installPageHelpers() {
  const w = globalThis;
  const gathered = (pc) => new Promise((r) => {
    if (pc.iceGatheringState === 'complete') r();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
  });
  w.raw = {
    async offer() {
      const pc = new RTCPeerConnection({ iceServers: [] });
      const dc = pc.createDataChannel('bench');
      dc.binaryType = 'arraybuffer';
      w.raw.pc = pc;
      w.raw.dc = dc;
      w.raw.t0 = performance.now();
      w.raw.open = new Promise((r) => dc.addEventListener('open', () => r(performance.now())));
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      return pc.localDescription.sdp;
    },
    async answer(sdp) {
      const pc = new RTCPeerConnection({ iceServers: [] });
      w.raw.pc = pc;
      w.raw.channel = new Promise((r) => pc.addEventListener('datachannel', (e) => {
        e.channel.binaryType = 'arraybuffer';
        w.raw.dc = e.channel;
        r(e.channel);
      }));
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      return pc.localDescription.sdp;
    },
    async finish(sdp) {
      await w.raw.pc.setRemoteDescription({ type: 'answer', sdp });
      return (await w.raw.open) - w.raw.t0;
    },
  };
}

async function main() {
  const jsonAt = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : join(RESULTS, 'devices.json');
  const started = Date.now();
  const out = mkdtempSync(join(tmpdir(), 'webmk-devices-bench-'));
  console.error('devices-bench: building the app ...');
  await build({ configFile: join(ROOT, 'vite.config.ts'), root: ROOT, logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
  const assets = readdirSync(join(out, 'assets'));
  const gz = (name) => (name === undefined ? null : gzipSync(readFileSync(join(out, 'assets', name)), { level: 9 }).length / 1024);
  const chunkKb = gz(assets.find((f) => /^devices-.*\.js$/.test(f)));
  const entryKb = gz(assets.find((f) => /^index-.*\.js$/.test(f)));
  const server = await serveStatic(folder(out));
  const { child: relayProc, relay } = await startRelay();
  const { module: harness } = await runnerImport(join(ROOT, 'tests/e2e/harness.ts'), { configFile: false, logLevel: 'error' });
  const launch = () => chromium.launch({ executablePath: harness.findChromium(), headless: true, args: [...harness.CHROMIUM_ARGS, '--allow-loopback-in-peer-connection'] });
  const browsers = await Promise.all([launch(), launch()]);
  try {
    const [a, b] = await Promise.all(browsers.map(async (br) => {
      const ctx = await br.newContext({ permissions: ['microphone', 'camera'] });
      const page = await ctx.newPage();
      page.on('pageerror', (e) => console.error('[pageerror]', e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => 'webmkDevices' in globalThis, undefined, { timeout: 30_000 });
      await page.evaluate(installPageHelpers);
      return page;
    }));
    const [idA, idB] = await Promise.all([a, b].map((p) => p.evaluate(async (r) => (await window.webmkDevices.start({ relay: r })).id, relay)));

    console.error('devices-bench: connect ...');
    const rawConnect = [];
    for (let i = 0; i < 5; i++) {
      const offer = await a.evaluate(() => raw.offer());
      const answer = await b.evaluate((s) => raw.answer(s), offer);
      rawConnect.push(await a.evaluate((s) => raw.finish(s), answer));
      if (i < 4) await Promise.all([a, b].map((p) => p.evaluate(() => raw.pc.close())));
    }
    await b.evaluate(() => raw.channel);
    const link = await a.evaluate(() => window.webmkDevices.current.pairingLink());
    const pairMs = await b.evaluate(async (l) => {
      const t0 = performance.now();
      await window.webmkDevices.current.pair(l);
      return performance.now() - t0;
    }, link);

    console.error('devices-bench: processes on the device ...');
    // b holds the modules and lets a run them there without asking again.
    await b.evaluate(async ([cat, busbench]) => {
      await window.kernel.install(new Uint8Array(cat), { name: 'cat' });
      await window.kernel.install(new Uint8Array(busbench), { name: 'busbench', grant: 'all' });
      setInterval(() => {
        for (const r of window.kernel.remoteRequests()) window.kernel.answerRemote(r.id, 'always');
      }, 20);
    }, [harness.moduleBytes('cat'), harness.moduleBytes('busbench')]);
    // The kernel's nodes ride the link; the round trips below take its messages over, so first.
    await a.waitForFunction((n) => window.kernel.nodes().find((x) => x.id === n)?.connected === true, idB, { timeout: 30_000 });
    const proc = await a.evaluate(async ([node, n, warm, total, chunk]) => {
      const k = window.kernel;
      const until = async (p, text) => {
        const r = p.stdout.getReader();
        let seen = '';
        const dec = new TextDecoder();
        while (!seen.includes(text)) {
          const { value, done } = await r.read();
          if (done) throw new Error(`ended before "${text}": ${seen}`);
          seen += dec.decode(value, { stream: true });
        }
        r.releaseLock();
      };
      // stdin -> stdout through cat there.
      const cat = await k.spawn('cat', { mode: 'remote', node });
      const w = cat.stdin.getWriter();
      const r = cat.stdout.getReader();
      const line = new Uint8Array(64).fill(97);
      line[63] = 10;
      const stdin = [];
      for (let i = 0; i < n + warm; i++) {
        const t0 = performance.now();
        await w.write(line);
        for (let got = 0; got < 64; ) {
          const { value, done } = await r.read();
          if (done) throw new Error('cat ended early');
          got += value.length;
        }
        if (i >= warm) stdin.push(performance.now() - t0);
      }
      // 32 MiB through it, read back here.
      const piece = new Uint8Array(chunk).fill(120);
      const t0 = performance.now();
      const reading = (async () => {
        for (let got = 0; got < total; ) {
          const { value, done } = await r.read();
          if (done) throw new Error('cat ended early');
          got += value.length;
        }
      })();
      for (let sent = 0; sent < total; sent += chunk) await w.write(piece);
      await reading;
      const pipeMs = performance.now() - t0;
      await k.kill(cat.pid);
      // bus publish here -> busbench pong there -> heard here.
      const pong = await k.spawn('busbench', { mode: 'remote', node, args: ['pong', String(n + warm + 1000)] });
      await until(pong, 'ready');
      let wake;
      const off = k.bus.subscribe('bench/pong', () => wake?.());
      const bus = [];
      for (let i = 0; i < n + warm; i++) {
        const t0 = performance.now();
        await new Promise((ok, fail) => {
          const timer = setTimeout(() => fail(new Error('no pong in 10 s')), 10_000);
          wake = () => { clearTimeout(timer); ok(); };
          k.bus.publish('bench/ping', new Uint8Array(64));
        });
        if (i >= warm) bus.push(performance.now() - t0);
      }
      off();
      await k.kill(pong.pid);
      return { stdin, pipeMs, bus };
    }, [idB, ROUND_TRIPS, WARMUP, BULK, CHUNK]);

    console.error('devices-bench: round trips ...');
    // b echoes on both paths.
    await b.evaluate((peer) => {
      const l = window.webmkDevices.current.links().find((x) => x.peer === peer);
      l.onMessage = (m) => l.send(m);
      raw.dc.onmessage = (e) => raw.dc.send(e.data);
    }, idA);
    await a.evaluate(() => new Promise((r) => {
      const t = setInterval(() => { if (window.webmkDevices.current.links().length > 0) { clearInterval(t); r(); } }, 20);
    }));
    const rtt = await a.evaluate(async ([n, warm]) => {
      const l = window.webmkDevices.current.links()[0];
      const msg = new Uint8Array(64);
      const link = [];
      for (let i = 0; i < n + warm; i++) {
        const t0 = performance.now();
        await new Promise((r) => { l.onMessage = r; l.send(msg); });
        if (i >= warm) link.push(performance.now() - t0);
      }
      const raws = [];
      for (let i = 0; i < n + warm; i++) {
        const t0 = performance.now();
        await new Promise((r) => { raw.dc.onmessage = r; raw.dc.send(msg); });
        if (i >= warm) raws.push(performance.now() - t0);
      }
      return { link, raw: raws };
    }, [ROUND_TRIPS, WARMUP]);

    console.error('devices-bench: bulk ...');
    await b.evaluate(([peer, total]) => {
      const l = window.webmkDevices.current.links().find((x) => x.peer === peer);
      let got = 0;
      l.onMessage = (m) => { got += m.length; if (got >= total) { got = 0; l.send('done'); } };
      let rawGot = 0;
      raw.dc.onmessage = (e) => { rawGot += e.data.byteLength; if (rawGot >= total) { rawGot = 0; raw.dc.send('done'); } };
    }, [idA, BULK]);
    const bulk = await a.evaluate(async ([total, chunk]) => {
      const l = window.webmkDevices.current.links()[0];
      const m = new Uint8Array(chunk).fill(7);
      let t0 = performance.now();
      const linkDone = new Promise((r) => (l.onMessage = r));
      for (let sent = 0; sent < total; sent += chunk) {
        await l.writable();
        l.send(m);
      }
      await linkDone;
      const linkMs = performance.now() - t0;
      const dc = raw.dc;
      dc.bufferedAmountLowThreshold = 1024 * 1024;
      const rawDone = new Promise((r) => (dc.onmessage = r));
      t0 = performance.now();
      for (let sent = 0; sent < total; sent += chunk) {
        if (dc.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => dc.addEventListener('bufferedamountlow', r, { once: true }));
        dc.send(m);
      }
      await rawDone;
      return { linkMs, rawMs: performance.now() - t0 };
    }, [BULK, CHUNK]);

    console.error('devices-bench: a killed browser ...');
    await a.evaluate(() => {
      const l = window.webmkDevices.current.links()[0];
      globalThis.noticed = {};
      void l.ended.then(() => (globalThis.noticed.link = Date.now()));
      const mark = () => {
        if (globalThis.noticed.raw === undefined && ['disconnected', 'failed', 'closed'].includes(raw.pc.connectionState)) globalThis.noticed.raw = Date.now();
      };
      raw.pc.addEventListener('connectionstatechange', mark);
      raw.dc.addEventListener('close', () => (globalThis.noticed.raw ??= Date.now()));
    });
    const cdp = await browsers[1].newBrowserCDPSession();
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    const pid = processInfo.find((p) => p.type === 'browser')?.id;
    if (pid === undefined) throw new Error('no browser process id');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await a.waitForFunction(() => globalThis.noticed.link !== undefined && globalThis.noticed.raw !== undefined, undefined, { timeout: 120_000, polling: 100 });
    const noticed = await a.evaluate(() => globalThis.noticed);

    const mbps = (ms) => BULK / 1e6 / (ms / 1000);
    const rows = [
      row({ id: 'dev.connect', figure: 'connect: pair(link) (relay, WebRTC, handshake) vs raw offer to data channel open', unit: 'ms', better: 'lower', webmk: pairMs, baseline: 'raw RTCPeerConnection, median of 5', raw: quantile(rawConnect, 0.5), note: 'one pairing (the first connection of two fresh nodes); the raw SDP crosses this script (two page round trips), no relay' }),
      row({ id: 'dev.rtt.p50', figure: '64-byte round trip over the Link, p50', unit: 'ms', better: 'lower', webmk: quantile(rtt.link, 0.5), baseline: 'raw RTCDataChannel echo', raw: quantile(rtt.raw, 0.5) }),
      row({ id: 'dev.rtt.p95', figure: '64-byte round trip over the Link, p95', unit: 'ms', better: 'lower', webmk: quantile(rtt.link, 0.95), baseline: 'raw RTCDataChannel echo', raw: quantile(rtt.raw, 0.95) }),
      row({ id: 'dev.bulk', figure: '32 MiB in 64 KiB messages, waiting on writable()', unit: 'MB/s', better: 'higher', webmk: mbps(bulk.linkMs), baseline: 'raw RTCDataChannel, bufferedAmount ≤ 4 MiB', raw: mbps(bulk.rawMs) }),
      row({ id: 'dev.stdin.p50', figure: '64-byte stdin -> stdout round trip through cat on the device, p50', unit: 'ms', better: 'lower', webmk: quantile(proc.stdin, 0.5), baseline: 'raw RTCDataChannel echo', raw: quantile(rtt.raw, 0.5) }),
      row({ id: 'dev.stdin.p95', figure: '64-byte stdin -> stdout round trip through cat on the device, p95', unit: 'ms', better: 'lower', webmk: quantile(proc.stdin, 0.95), baseline: 'raw RTCDataChannel echo', raw: quantile(rtt.raw, 0.95) }),
      row({ id: 'dev.bus.p50', figure: '64-byte bus publish here -> busbench pong on the device -> heard here, p50', unit: 'ms', better: 'lower', webmk: quantile(proc.bus, 0.5), baseline: 'raw RTCDataChannel echo', raw: quantile(rtt.raw, 0.5) }),
      row({ id: 'dev.bus.p95', figure: '64-byte bus publish here -> busbench pong on the device -> heard here, p95', unit: 'ms', better: 'lower', webmk: quantile(proc.bus, 0.95), baseline: 'raw RTCDataChannel echo', raw: quantile(rtt.raw, 0.95) }),
      row({ id: 'dev.pipe', figure: '32 MiB through cat on the device, 64 KiB writes, read back here', unit: 'MB/s', better: 'higher', webmk: mbps(proc.pipeMs), baseline: 'raw RTCDataChannel one way, bufferedAmount ≤ 4 MiB', raw: mbps(bulk.rawMs), note: 'the bytes cross the link twice (there and back); the raw figure once' }),
      row({ id: 'dev.lost', figure: 'a killed browser noticed (Link ended link-lost)', unit: 'ms', better: 'lower', webmk: noticed.link - killedAt, baseline: 'raw RTCPeerConnection state leaves connected', raw: noticed.raw - killedAt }),
      row({ id: 'dev.chunk', figure: 'the libp2p chunk (devices), gzip -9', unit: 'KB', better: 'lower', webmk: chunkKb, baseline: "the app's entry chunk", raw: entryKb, note: 'loaded only when devices are turned on' }),
    ];
    const report = {
      date: new Date().toISOString(),
      command: 'npm run bench -- devices',
      namespace: process.env.WEBMK_BENCH_NETNS === '1',
      chromium: browsers[0].version(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalSeconds: (Date.now() - started) / 1000,
      rows,
      detail: { rawConnect, rtt, bulk, proc, noticed: { link: noticed.link - killedAt, raw: noticed.raw - killedAt } },
    };
    mkdirSync(resolve(jsonAt, '..'), { recursive: true });
    writeFileSync(jsonAt, `${JSON.stringify(report, null, 2)}\n`);
    const fmt = (x) => (x === null || !Number.isFinite(x) ? 'n/a' : x < 10 ? x.toFixed(2) : x.toFixed(0));
    console.log([
      '| figure | webmk | raw baseline | ratio webmk/raw |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.figure} | ${fmt(r.webmk)} ${r.unit} | ${fmt(r.raw)} ${r.unit} (${r.baseline}) | ${r.ratio === null ? 'n/a' : `${r.ratio.toFixed(3)}×`} |`),
      '',
      ...rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note}`),
    ].join('\n'));
    console.log(`\n${report.chromium}, ${report.cpus} × ${report.cpuModel}${report.namespace ? ', in a network namespace' : ''}; ${report.totalSeconds.toFixed(0)} s; ${jsonAt}`);
  } finally {
    for (const br of browsers) await br.close().catch(() => {});
    relayProc.kill();
    rmSync(out, { recursive: true, force: true });
    await server.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
