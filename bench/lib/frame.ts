/**
 * Page side of the raw sandboxed-frame baselines: a `<iframe sandbox="allow-scripts"
 * allow="cross-origin-isolated" srcdoc=...>` (opaque origin, a renderer process of its own) with a
 * classic blob: worker inside, as a page without webmk would set one up. A module worker from a
 * blob: URL does not load in an opaque-origin frame, a sandboxed frame cannot load the page's
 * scripts by URL, and a compiled module cannot be posted into it: the frame is given the worker's
 * code as text and the wasm bytes. The bus baselines run bench/port-worker.ts in such a worker,
 * and the frame's main thread between a port and a doorbell its worker sleeps on (the iframe
 * mode's hops without webmk).
 */
import type { RawReply } from './protocol';
import portWorkerUrl from '../port-worker.ts?worker&url';
import rawWorkerUrl from '../raw-worker.ts?worker&url';

/**
 * The frame's script: makes a worker from the code it is sent and relays for it; or, for
 * `main-echo`, answers on the port it is given from its own main thread.
 */
const FRAME_SCRIPT = `
const one = new Uint8Array(1);
onmessage = (e) => {
  if (e.source !== parent) return;
  const d = e.data;
  const port = e.ports[0];
  if (d.type === 'main-echo') {
    port.onmessage = (m) => port.postMessage(m.data);
    parent.postMessage({ type: 'main-echo-ready' }, '*');
    return;
  }
  const w = new Worker(URL.createObjectURL(new Blob([d.code], { type: 'text/javascript' })));
  w.onerror = (er) => parent.postMessage({ type: 'error', message: er.message || 'worker failed' }, '*');
  if (d.type === 'run') {
    w.onmessage = (m) => { if (m.data.type === 'done') parent.postMessage(m.data, '*'); };
    w.postMessage({ type: 'run', module: d.bytes, args: d.args, env: [], stdout: 'collect' });
  } else if (d.type === 'echo') {
    w.onmessage = () => parent.postMessage({ type: 'echo-ready' }, '*');
    w.postMessage(null, [port]);
  } else if (d.type === 'port-worker') {
    w.onmessage = (m) => parent.postMessage({ type: 'worker-says', data: m.data }, '*');
    w.postMessage(Object.assign({}, d.init, { port }), [port]);
  } else if (d.type === 'bell') {
    const bell = new Int32Array(new SharedArrayBuffer(8));
    const ring = () => { Atomics.add(bell, 0, 1); Atomics.notify(bell, 0); };
    w.postMessage({ type: 'bell-pong', sab: bell.buffer });
    if (port !== undefined) {
      port.onmessage = ring;
      w.onmessage = () => port.postMessage(one);
      parent.postMessage({ type: 'bell-ready' }, '*');
      return;
    }
    const rtt = [];
    let t0 = 0;
    let i = 0;
    w.onmessage = () => {
      if (i >= d.warmup) rtt.push(performance.now() - t0);
      i++;
      if (i === d.n + d.warmup) {
        Atomics.store(bell, 0, -1);
        Atomics.notify(bell, 0);
        parent.postMessage({ type: 'bell-done', rtt }, '*');
        return;
      }
      t0 = performance.now();
      ring();
    };
    t0 = performance.now();
    ring();
  }
};
parent.postMessage({ type: 'loaded' }, '*');
`;

/**
 * A worker (classic) on the port it is given: sends every chunk straight back, transferred
 * (`echo`), or only its byte count (`ack`); a string message sets which.
 */
const ECHO_WORKER = `
onmessage = (e) => {
  const port = e.ports[0];
  let ack = false;
  port.onmessage = (m) => {
    if (typeof m.data === 'string') ack = m.data === 'ack';
    else if (ack) port.postMessage(m.data.length);
    else port.postMessage(m.data, [m.data.buffer]);
  };
  postMessage('ready');
};
`;

const codes = new Map<string, Promise<string>>();

/** A worker bundle as text, fetched once, checked to be loadable as a classic script. */
function workerCode(url: string): Promise<string> {
  let code = codes.get(url);
  if (code === undefined) {
    code = fetch(new URL(url, document.baseURI)).then(async (r) => {
      if (!r.ok) throw new Error(`fetching ${url}: HTTP ${r.status}`);
      const text = await r.text();
      // Loaded as a classic script: a module bundle would show itself here.
      if (/^\s*(import|export)\b/m.test(text)) throw new Error(`the worker bundle ${url} is not a classic script`);
      return text;
    });
    codes.set(url, code);
  }
  return code;
}

/** The bare-shim worker (bench/raw-worker.ts, bundled) as text. */
export function rawWorkerCode(): Promise<string> {
  return workerCode(rawWorkerUrl);
}

/** The raw port and doorbell worker (bench/port-worker.ts, bundled) as text. */
export function portWorkerCode(): Promise<string> {
  return workerCode(portWorkerUrl);
}

/** A new sandboxed frame, appended and loaded (its script has started). */
export async function openRawFrame(): Promise<HTMLIFrameElement> {
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.setAttribute('allow', 'cross-origin-isolated');
  frame.style.cssText = 'position:fixed;width:0;height:0;border:0;visibility:hidden';
  frame.srcdoc = `<!doctype html><meta charset="utf-8"><script>${FRAME_SCRIPT}</script>`;
  const loaded = fromFrame(frame, 'loaded');
  document.body.append(frame);
  await loaded;
  return frame;
}

/** The next message of `type` from `frame`'s window; rejects on an `error` from it. */
function fromFrame<T = unknown>(frame: HTMLIFrameElement, type: string): Promise<T> {
  return new Promise((ok, fail) => {
    const on = (e: MessageEvent<{ type?: string; message?: string }>): void => {
      if (e.source !== frame.contentWindow || e.source === null) return;
      if (e.data?.type === 'error') {
        window.removeEventListener('message', on);
        fail(new Error(`raw frame: ${e.data.message ?? '?'}`));
      } else if (e.data?.type === type) {
        window.removeEventListener('message', on);
        ok(e.data as T);
      }
    };
    window.addEventListener('message', on);
  });
}

/**
 * The raw new-frame run: a new sandboxed frame, a blob: worker in it that compiles `bytes` and runs
 * them with the bare shim, until the frame posts the output back (and when its script had
 * started). The frame is removed after.
 */
export async function rawFrameRun(code: string, bytes: Uint8Array, args: string[]): Promise<{ code: number; stdout: string; loadedAt: number }> {
  const frame = await openRawFrame();
  const loadedAt = performance.now();
  try {
    const done = fromFrame<Extract<RawReply, { type: 'done' }>>(frame, 'done');
    frame.contentWindow?.postMessage({ type: 'run', code, bytes, args }, '*');
    const r = await done;
    return { code: r.code, stdout: r.stdout, loadedAt };
  } finally {
    frame.remove();
  }
}

/** A frame whose worker echoes every chunk sent on the returned port (ArrayBuffers transferred both ways). */
export async function openEchoFrame(): Promise<{ frame: HTMLIFrameElement; port: MessagePort }> {
  const frame = await openRawFrame();
  const { port1, port2 } = new MessageChannel();
  const ready = fromFrame(frame, 'echo-ready');
  frame.contentWindow?.postMessage({ type: 'echo', code: ECHO_WORKER }, '*', [port2]);
  await ready;
  return { frame, port: port1 };
}

/**
 * Moves `data` page -> frame worker over `port` in `chunk`-byte pieces (each a copy,
 * transferred), at most `window` bytes unanswered at once (Infinity: everything posted at once).
 * `echo`: each piece comes back, transferred (checked if `verify`); `ack`: only its byte count
 * does. ms until the last answer.
 */
export function echoRun(port: MessagePort, data: Uint8Array, chunk: number, window: number, how: 'echo' | 'ack', verify = false): Promise<number> {
  port.postMessage(how);
  return new Promise((ok, fail) => {
    let sent = 0;
    let back = 0;
    const t0 = performance.now();
    const pump = (): void => {
      while (sent < data.length && sent - back < window) {
        const c = data.slice(sent, sent + chunk);
        sent += c.length;
        port.postMessage(c, [c.buffer]);
      }
    };
    port.onmessage = (e: MessageEvent<Uint8Array | number>) => {
      const c = e.data;
      if (typeof c !== 'number' && verify) {
        const bad = c.findIndex((b, i) => b !== data[back + i]);
        if (bad >= 0) {
          port.onmessage = null;
          fail(new Error(`echo: byte ${back + bad} differs`));
          return;
        }
      }
      back += typeof c === 'number' ? c : c.length;
      if (back === data.length) {
        port.onmessage = null;
        ok(performance.now() - t0);
        return;
      }
      pump();
    };
    pump();
  });
}

/**
 * A new frame with bench/port-worker.ts running in a worker inside it (made from `code`), given
 * `init` and `port` (transferred straight to that worker); `says()` is the worker's next message
 * to its creator, relayed to the page (queued from the start); `close()` removes the frame.
 */
export async function openPortWorkerFrame(code: string, init: Record<string, unknown>, port: MessagePort): Promise<{ says: <T>() => Promise<T>; close: () => void }> {
  const frame = await openRawFrame();
  const queue: unknown[] = [];
  const waiters: Array<(x: unknown) => void> = [];
  const on = (e: MessageEvent<{ type?: string; data?: unknown }>): void => {
    if (e.source !== frame.contentWindow || e.source === null || e.data?.type !== 'worker-says') return;
    const w = waiters.shift();
    if (w !== undefined) w(e.data.data);
    else queue.push(e.data.data);
  };
  window.addEventListener('message', on);
  const says = <T>(): Promise<T> =>
    new Promise<T>((ok) => {
      if (queue.length > 0) ok(queue.shift() as T);
      else waiters.push(ok as (x: unknown) => void);
    });
  frame.contentWindow?.postMessage({ type: 'port-worker', code, init }, '*', [port]);
  const close = (): void => {
    window.removeEventListener('message', on);
    frame.remove();
  };
  return { says, close };
}

/** A new frame whose main thread answers every message on the returned port with the same message. */
export async function openMainEchoFrame(): Promise<{ frame: HTMLIFrameElement; port: MessagePort }> {
  const frame = await openRawFrame();
  const { port1, port2 } = new MessageChannel();
  const ready = fromFrame(frame, 'main-echo-ready');
  frame.contentWindow?.postMessage({ type: 'main-echo' }, '*', [port2]);
  await ready;
  return { frame, port: port1 };
}

/**
 * A new frame whose main thread, on each message on the returned port, rings a doorbell in shared
 * memory that a worker of the frame sleeps on (`bell-pong` of bench/port-worker.ts, from `code`);
 * the worker answers its main thread by message, which answers on the port.
 */
export async function openBellFrame(code: string): Promise<{ frame: HTMLIFrameElement; port: MessagePort }> {
  const frame = await openRawFrame();
  const { port1, port2 } = new MessageChannel();
  const ready = fromFrame(frame, 'bell-ready');
  frame.contentWindow?.postMessage({ type: 'bell', code }, '*', [port2]);
  await ready;
  return { frame, port: port1 };
}

/**
 * Round trips (ms) inside a new frame: its main thread rings a doorbell a worker of the frame
 * sleeps on, the worker answers by message; `n` after `warmup`. The frame is removed after.
 */
export async function frameBellRun(code: string, n: number, warmup: number): Promise<number[]> {
  const frame = await openRawFrame();
  try {
    const done = fromFrame<{ rtt: number[] }>(frame, 'bell-done');
    frame.contentWindow?.postMessage({ type: 'bell', code, n, warmup }, '*');
    return (await done).rtt;
  } finally {
    frame.remove();
  }
}
