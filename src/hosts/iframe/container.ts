/**
 * The `iframe` mode's container on the page: one hidden `<iframe sandbox="allow-scripts"
 * allow="cross-origin-isolated" srcdoc=...>`, never `allow-same-origin`, so it has an opaque
 * origin and, in Chromium, a renderer process of its own. The app's service worker never sees a
 * sandboxed frame's requests, so the frame's script is written into its `srcdoc` and the process
 * runtime's worker script is handed over by message, both read from the app's own built files
 * (precached, so this works offline). A Content-Security-Policy in the frame denies it (and the
 * workers it makes) every network request.
 */
import { KernelError } from '../../common';
import { FRAME_PROTOCOL, FromFrame, ToFrame, type FrameBoot } from '../../ipc';
import workerUrl from '../../process/worker-entry.ts?worker&url';
import relayUrl from './frame/relay.ts?worker&url';

/** How long a new container may take to load and boot before the spawn fails. */
const BOOT_TIMEOUT_MS = 20_000;

const CSP = "default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval' blob:; worker-src blob:";

/** The title of a container frame (what finds the frames on the page). */
export const CONTAINER_TITLE = 'webmk iframe-mode container';

/** A booted container: its element and the port to its script. */
export interface Container {
  readonly frame: HTMLIFrameElement;
  readonly port: MessagePort;
}

/** The built scripts, read once per page (a container made again after a teardown reuses them). */
const scripts = new Map<string, Promise<string>>();

function text(url: string): Promise<string> {
  let t = scripts.get(url);
  if (t === undefined) {
    t = fetch(new URL(url, document.baseURI)).then((res) => {
      if (!res.ok) throw new KernelError('kernel/spawn-failed', `could not load ${url} for the iframe container (${res.status})`);
      return res.text();
    });
    scripts.set(url, t);
    t.catch(() => scripts.delete(url));
  }
  return t;
}

/** The frame's document: its script inline, as a module. */
function srcdoc(relay: string): string {
  // Nothing in the script may close the <script> element early.
  const safe = relay.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><title>webmk container</title><script type="module">${safe}</script>`;
}

/** Creates a container, waits for its script, hands it the port and the worker script. */
export async function openContainer(parent: HTMLElement): Promise<Container> {
  // The worker script loads while the frame does.
  const worker = text(workerUrl);
  worker.catch(() => {});
  const relay = await text(relayUrl);
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.setAttribute('allow', 'cross-origin-isolated');
  frame.setAttribute('aria-hidden', 'true');
  frame.tabIndex = -1;
  frame.title = CONTAINER_TITLE;
  frame.style.cssText = 'position:fixed;width:0;height:0;border:0;visibility:hidden';
  frame.srcdoc = srcdoc(relay);
  const channel = new MessageChannel();
  const booted = new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => {
      window.removeEventListener('message', onLoaded);
      fail(new KernelError('kernel/spawn-failed', 'the iframe container did not start'));
    }, BOOT_TIMEOUT_MS);
    const onLoaded = (e: MessageEvent<unknown>): void => {
      const d = e.data as { v?: unknown; type?: unknown } | null;
      if (e.source !== frame.contentWindow || d?.v !== FRAME_PROTOCOL || d.type !== FromFrame.loaded) return;
      window.removeEventListener('message', onLoaded);
      worker.then(
        (workerCode) => {
          const boot: FrameBoot = { v: FRAME_PROTOCOL, type: ToFrame.boot, workerCode };
          frame.contentWindow?.postMessage(boot, '*', [channel.port2]);
        },
        (e: unknown) => {
          clearTimeout(timer);
          fail(e);
        },
      );
    };
    window.addEventListener('message', onLoaded);
    channel.port1.onmessage = (e: MessageEvent<unknown>) => {
      const d = e.data as { type?: unknown } | null;
      if (d?.type !== FromFrame.ready) return;
      clearTimeout(timer);
      channel.port1.onmessage = null;
      ok();
    };
  });
  parent.append(frame);
  try {
    await booted;
  } catch (e) {
    frame.remove();
    throw e;
  }
  return { frame, port: channel.port1 };
}
