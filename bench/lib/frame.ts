/**
 * Page side of the raw sandboxed-frame baselines: a `<iframe sandbox="allow-scripts"
 * allow="cross-origin-isolated" srcdoc=...>` (opaque origin, a renderer process of its own) with a
 * classic blob: worker inside, as a page without webmk would set one up. A module worker from a
 * blob: URL does not load in an opaque-origin frame, a sandboxed frame cannot load the page's
 * scripts by URL, and a compiled module cannot be posted into it: the frame is given the worker's
 * code as text and the wasm bytes.
 */
import type { RawReply } from './protocol';
import rawWorkerUrl from '../raw-worker.ts?worker&url';

/** The frame's script: makes a worker from the code it is sent and relays for it. */
const FRAME_SCRIPT = `
onmessage = (e) => {
  if (e.source !== parent) return;
  const d = e.data;
  const w = new Worker(URL.createObjectURL(new Blob([d.code], { type: 'text/javascript' })));
  w.onerror = (er) => parent.postMessage({ type: 'error', message: er.message || 'worker failed' }, '*');
  if (d.type === 'run') {
    w.onmessage = (m) => { if (m.data.type === 'done') parent.postMessage(m.data, '*'); };
    w.postMessage({ type: 'run', module: d.bytes, args: d.args, env: [], stdout: 'collect' });
  } else if (d.type === 'echo') {
    w.onmessage = () => parent.postMessage({ type: 'echo-ready' }, '*');
    w.postMessage(null, [e.ports[0]]);
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

let rawCode: Promise<string> | null = null;

/** The bare-shim worker (bench/raw-worker.ts, bundled) as text, fetched once. */
export function rawWorkerCode(): Promise<string> {
  rawCode ??= fetch(new URL(rawWorkerUrl, document.baseURI)).then(async (r) => {
    if (!r.ok) throw new Error(`fetching the raw worker: HTTP ${r.status}`);
    const code = await r.text();
    // Loaded as a classic script: a module bundle would show itself here.
    if (/^\s*(import|export)\b/m.test(code)) throw new Error('the raw worker bundle is not a classic script');
    return code;
  });
  return rawCode;
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
