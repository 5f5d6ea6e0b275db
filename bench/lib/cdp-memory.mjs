/**
 * Memory as the browser sees it, for figures that measure what is let go (the migrate figure's
 * hibernation): exposed to the bench page as `window.benchMemory()`. Through the Chrome DevTools
 * Protocol: the page's and every dedicated worker's JS heap (`Runtime.getHeapUsage`, each after
 * `HeapProfiler.collectGarbage`, so memory no longer referenced is gone), and the resident memory
 * of the browser's renderer processes (their pids from CDP's `SystemInfo.getProcessInfo` where a
 * browser session exists, else the renderers under this browser's profile; their RSS from
 * /proc, Linux only). A wasm memory is outside every JS heap: only the RSS shows it.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Resident bytes of a process, or 0 when it is gone or unreadable. */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Pids of the renderer processes started with `profile` as their user data directory (or under a browser that was). */
function renderersOf(profile) {
  const all = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Chromium rewrites its command line (one string, arguments joined by spaces): split on both.
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split(/[\0 ]/);
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      all.push({ pid: Number(name), ppid, cmd });
    } catch {
      // Gone meanwhile.
    }
  }
  const ours = new Set(all.filter((p) => p.cmd.some((a) => a === `--user-data-dir=${profile}`)).map((p) => p.pid));
  // Renderers are the browser's grandchildren (through the zygote): follow parents up.
  const under = (p) => {
    for (let q = p, hops = 0; q !== undefined && hops < 5; q = all.find((x) => x.pid === q.ppid), hops++) if (ours.has(q.pid)) return true;
    return false;
  };
  return all.filter((p) => p.cmd.includes('--type=renderer') && under(p)).map((p) => p.pid);
}

/**
 * Installs `window.benchMemory()` in `page` (call before it navigates). `profile` is the
 * browser's user data directory, to find its renderers.
 */
export async function exposeMemory(context, page, profile) {
  const cdp = await context.newCDPSession(page);
  const workers = new Map();
  const pending = new Map();
  let nextId = 1;
  cdp.on('Target.attachedToTarget', (e) => workers.set(e.sessionId, e.targetInfo.type));
  cdp.on('Target.detachedFromTarget', (e) => workers.delete(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    const done = pending.get(m.id);
    if (done === undefined) return;
    pending.delete(m.id);
    done(m.result ?? null);
  });
  // Not flattened: playwright's session sends no child session ids, so messages go through the page's.
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const inWorker = (sessionId, method) =>
    new Promise((ok) => {
      const id = nextId++;
      pending.set(id, ok);
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: {} }) }).catch(() => {
        pending.delete(id);
        ok(null);
      });
      setTimeout(() => {
        if (pending.delete(id)) ok(null);
      }, 5000);
    });
  await page.exposeFunction('benchMemory', async () => {
    await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
    let workerHeap = 0;
    let workerCount = 0;
    for (const [sid, type] of workers) {
      if (type !== 'worker') continue;
      await inWorker(sid, 'HeapProfiler.collectGarbage');
      const h = await inWorker(sid, 'Runtime.getHeapUsage');
      if (h === null) continue;
      workerHeap += h.usedSize;
      workerCount += 1;
    }
    const page = await cdp.send('Runtime.getHeapUsage');
    const renderers = renderersOf(profile);
    return { pageHeap: page.usedSize, workerHeap, workers: workerCount, rendererRss: renderers.reduce((n, pid) => n + rssOf(pid), 0), renderers: renderers.length };
  });
}
