/**
 * A remote process's window (ADR 0029): frames per second shown here of a graphics module that
 * runs on another node (gfx-probe `bench 320 240 SECS`: one row flipped per present, presents
 * paced by animation frames), vs a raw pipeline doing the same work without the kernel: a frame
 * drawn per animation frame on an OffscreenCanvas, the newest encoded as PNG, sent over a
 * BroadcastChannel, decoded and shown with a bitmaprenderer, one at a time. The other node is a same-origin frame of this page (as in the
 * remote figure): both share one thread.
 */
import type { Kernel } from '../../src/kernel';
import { createKernel } from '../../src/kernel';
import { fixtureBytes } from '../lib/modules';
import { median, row, type FigureResult } from '../lib/report';

const W = 320;
const H = 240;
const SECONDS = 3;
const RUNS = 3;

/** A frame of this page running a kernel on database `db`, ready. */
async function peer(db: string): Promise<HTMLIFrameElement> {
  const f = document.createElement('iframe');
  f.src = `./index.html?peer=${encodeURIComponent(db)}`;
  document.body.append(f);
  for (let i = 0; i < 4000 && f.contentDocument?.body?.dataset.peer !== 'ready'; i++) await new Promise((ok) => setTimeout(ok, 5));
  if (f.contentDocument?.body?.dataset.peer !== 'ready') throw new Error('the peer frame did not start');
  return f;
}

async function otherNode(kernel: Kernel): Promise<string> {
  for (let i = 0; i < 4000; i++) {
    const n = kernel.nodes()[0];
    if (n !== undefined) return n.id;
    await new Promise((ok) => setTimeout(ok, 5));
  }
  throw new Error('the other node never showed');
}

/** Counts frames this page's bitmaprenderers show (the remote window's; the peer frame has its own realm). */
function countShown(): { count(): number; stop(): void } {
  const proto = ImageBitmapRenderingContext.prototype;
  const original = proto.transferFromImageBitmap;
  let n = 0;
  proto.transferFromImageBitmap = function (this: ImageBitmapRenderingContext, b: ImageBitmap | null) {
    n += 1;
    original.call(this, b);
  };
  return { count: () => n, stop: () => void (proto.transferFromImageBitmap = original) };
}

/** Frames/s shown here of gfx-probe presenting on `node`, and frames/s it presented there. */
async function webmkRun(kernel: Kernel, node: string): Promise<{ shown: number; presented: number }> {
  const shown = countShown();
  try {
    const p = await kernel.spawn('gfx-probe', { mode: 'remote', node, args: ['bench', String(W), String(H), String(SECONDS)] });
    void p.stdin.close();
    // Counted from the first frame shown, for as long as the module presents.
    while (shown.count() === 0) await new Promise((ok) => setTimeout(ok, 1));
    const t0 = performance.now();
    const c0 = shown.count();
    const out = await new Response(p.stdout).text();
    const s = (performance.now() - t0) / 1000;
    await p.exit;
    const m = /frames (\d+) seconds ([\d.]+)/.exec(out);
    return { shown: (shown.count() - c0) / s, presented: m === null ? NaN : Number(m[1]) / Number(m[2]) };
  } finally {
    shown.stop();
  }
}

/**
 * Frames/s of the raw pipeline, made like the module's: a frame drawn every animation frame (the
 * module's presents are paced the same way) and, apart from that, the newest one encoded as PNG,
 * sent over a BroadcastChannel, decoded and shown, one at a time.
 */
async function rawRun(): Promise<number> {
  const tx = new BroadcastChannel('bench-remote-window');
  const rx = new BroadcastChannel('bench-remote-window');
  const source = new OffscreenCanvas(W, H);
  const ctx = source.getContext('2d');
  const encoder = new OffscreenCanvas(W, H);
  const enc = encoder.getContext('2d');
  const shown = document.createElement('canvas').getContext('bitmaprenderer');
  if (ctx === null || enc === null || shown === null) throw new Error('no canvas contexts');
  const img = ctx.createImageData(W, H);
  img.data.fill(255);
  let newest: ImageBitmap | undefined;
  let sending = false;
  let count = 0;
  let waiting: (() => void) | undefined;
  rx.onmessage = async (e: MessageEvent) => {
    const bitmap = await createImageBitmap(new Blob([e.data as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
    shown.transferFromImageBitmap(bitmap);
    count += 1;
    waiting?.();
  };
  const pump = async (): Promise<void> => {
    while (!sending && newest !== undefined) {
      sending = true;
      const b = newest;
      newest = undefined;
      enc.drawImage(b, 0, 0);
      b.close();
      const png = new Uint8Array(await (await encoder.convertToBlob({ type: 'image/png' })).arrayBuffer());
      await new Promise<void>((ok) => {
        waiting = ok;
        tx.postMessage(png);
      });
      sending = false;
    }
  };
  const t0 = performance.now();
  for (let frames = 0; performance.now() - t0 < SECONDS * 1000; frames++) {
    await new Promise((ok) => requestAnimationFrame(ok));
    const y = frames % H;
    for (let x = 0; x < W * 4; x++) img.data[y * W * 4 + x] = 255 - (img.data[y * W * 4 + x] ?? 0);
    ctx.putImageData(img, 0, 0);
    newest?.close();
    newest = await createImageBitmap(source);
    void pump();
  }
  const fps = count / ((performance.now() - t0) / 1000);
  tx.close();
  rx.close();
  newest?.close();
  return fps;
}

export async function remoteWindowFigure(): Promise<FigureResult> {
  const ns = `bench-remote-window-${Date.now()}`;
  const main = createKernel({ dbName: ns });
  await main.ready;
  await main.install(await fixtureBytes('gfx-probe'), { name: 'gfx-probe' });
  const frame = await peer(ns);
  try {
    const node = await otherNode(main);
    const webmk: Array<{ shown: number; presented: number }> = [];
    const raw: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      webmk.push(await webmkRun(main, node));
      raw.push(await rawRun());
    }
    const shown = median(webmk.map((r) => r.shown));
    return {
      rows: [
        row({
          id: 'remote-window.fps',
          figure: `frames/s shown here of a ${W}x${H} window whose module runs on another node (median of ${RUNS})`,
          unit: 'frames/s',
          better: 'higher',
          webmk: shown,
          baseline: 'a frame drawn per animation frame; newest PNG-encoded, BroadcastChannel, decoded, shown, one at a time',
          raw: median(raw),
          note: 'the other node is a same-origin frame of the page: both share one thread; frames the module presents meanwhile are skipped',
        }),
      ],
      breakdown: [{ id: 'remote-window.presented', what: 'frames/s the module presented on the other node (not slowed by the link)', value: median(webmk.map((r) => r.presented)), unit: 'frames/s' }],
      detail: { webmk, raw },
    };
  } finally {
    frame.remove();
    main.dispose();
  }
}
