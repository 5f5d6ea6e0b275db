/**
 * The container frame's script (the `iframe` mode). It runs inline in a sandboxed, opaque-origin
 * frame in a renderer process of its own; the page gives it, once, a MessagePort and the process
 * runtime's worker script. From then on it starts processes in its own workers, compiles each
 * module once per content hash (a compiled module cannot be posted into the frame), and relays
 * stdio and calls between those workers and the page. Kernel-owned code: module code runs only
 * in the workers.
 */
import { KernelError } from '../../../common';
import {
  FRAME_PROTOCOL,
  FromFrame,
  ToFrame,
  parseToFrame,
  type FromFrameMessage,
  type FrameStart,
  type ToFrameMessage,
} from '../../../ipc';
import { FrameProcess, type Linked } from './frame-process';
import { FrameWorkers } from './frame-workers';

let port: MessagePort | null = null;
let workers: FrameWorkers | null = null;
const procs = new Map<number, FrameProcess>();
/** Messages for starts still compiling, in order. */
const waiting = new Map<number, ToFrameMessage[]>();
const compiled = new Map<string, Promise<WebAssembly.Module>>();

function post(msg: FromFrameMessage, transfer: Transferable[] = []): void {
  port?.postMessage(msg, transfer);
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const d = e.data as { v?: unknown; type?: unknown; workerCode?: unknown } | null;
  const given = e.ports[0];
  if (port !== null || e.source !== window.parent || d?.v !== FRAME_PROTOCOL || d.type !== ToFrame.boot || typeof d.workerCode !== 'string' || given === undefined) return;
  workers = new FrameWorkers(URL.createObjectURL(new Blob(['"use strict";\n', d.workerCode], { type: 'text/javascript' })));
  port = given;
  port.onmessage = (m: MessageEvent<unknown>) => void fromPage(m.data);
  post({ v: FRAME_PROTOCOL, type: FromFrame.ready });
});

async function fromPage(data: unknown): Promise<void> {
  let msg;
  try {
    msg = parseToFrame(data);
  } catch (e) {
    post({ v: FRAME_PROTOCOL, type: FromFrame.error, error: KernelError.from(e).toJSON() });
    return;
  }
  if (msg.type === ToFrame.start) {
    await start(msg);
    return;
  }
  const queue = waiting.get(msg.sid);
  if (queue !== undefined) queue.push(msg);
  else procs.get(msg.sid)?.handle(msg);
}

async function start(s: FrameStart): Promise<void> {
  waiting.set(s.sid, []);
  let module: WebAssembly.Module | string;
  let linked: Linked = [];
  try {
    // A JS module's text becomes a blob: URL here, in the frame's own origin, for its worker to import.
    module = s.script !== undefined ? URL.createObjectURL(new Blob([s.script], { type: 'text/javascript' })) : await moduleFor(s);
    // An Extism plugin's linked modules come as bytes, at each start (ADR 0032).
    linked = await Promise.all((s.extism?.linked ?? []).map(async (l) => ({ name: l.name, module: await WebAssembly.compile(l.bytes as Uint8Array<ArrayBuffer>) })));
  } catch (e) {
    waiting.delete(s.sid);
    post({ v: FRAME_PROTOCOL, type: FromFrame.exited, sid: s.sid, code: 126, reason: 'failed', message: `could not compile: ${(e as Error).message}` });
    return;
  }
  const queued = waiting.get(s.sid) ?? [];
  waiting.delete(s.sid);
  if (workers === null) return;
  const proc = new FrameProcess(s, module, linked, workers, post, () => procs.delete(s.sid));
  procs.set(s.sid, proc);
  for (const m of queued) proc.handle(m);
}

/** The compiled module of a start: from its bytes the first time, from the cache after. */
function moduleFor(s: FrameStart): Promise<WebAssembly.Module> {
  let m = compiled.get(s.sha256);
  if (m === undefined) {
    if (s.bytes === undefined) return Promise.reject(new Error('the frame has not been given this module'));
    m = WebAssembly.compile(s.bytes as Uint8Array<ArrayBuffer>);
    compiled.set(s.sha256, m);
    m.catch(() => compiled.delete(s.sha256));
  }
  return m;
}

window.parent.postMessage({ v: FRAME_PROTOCOL, type: FromFrame.loaded }, '*');
