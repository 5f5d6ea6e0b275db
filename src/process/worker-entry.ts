/**
 * Entry of a module's worker. Kernel-owned glue: it parses what the page sends, runs one
 * process at a time, relays the process's calls into the kernel, and reports how it ended. The
 * wasm code reaches nothing but its imports.
 */
import { KernelError } from '../common';
import { FromWorker, ToWorker, WORKER_LOCK_PREFIX, WORKER_PROTOCOL, parseToWorker, type FromWorkerMessage } from '../ipc';
import { providers } from './capabilities';
import type { RunningProcess } from './guest';
import { runProcess } from './run';

interface WorkerScope {
  postMessage(message: FromWorkerMessage, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;
const post = (msg: FromWorkerMessage, transfer: Transferable[] = []): void => scope.postMessage(msg, transfer);
let current: { pid: number; proc: RunningProcess } | null = null;
/** `serve` messages read since the current process started: a service asleep on its call slot leaves it when the page has sent more. */
let received = 0;

/** Serves direct calls (ADR 0027) until a message comes; the event loop runs again in between. */
const serveDirect = (): void => {
  const c = current;
  if (c?.proc.serveDirect === undefined) return;
  c.proc.serveDirect(() => received);
};

scope.onmessage = (e) => {
  let msg;
  try {
    msg = parseToWorker(e.data);
  } catch (err) {
    post({ v: WORKER_PROTOCOL, type: FromWorker.error, error: KernelError.from(err).toJSON() });
    return;
  }
  if (msg.type === ToWorker.reply) {
    if (current?.pid === msg.pid) current.proc.settle(msg.id, msg.ok, msg.value, msg.error);
    return;
  }
  if (msg.type === ToWorker.serve) {
    received++;
    const out =
      current?.pid === msg.pid && current.proc.serve !== undefined
        ? current.proc.serve(msg.fn, msg.input, msg.until)
        : { ok: false as const, error: new KernelError('service/error', `process ${msg.pid} serves no calls here`).toJSON() };
    post({ v: WORKER_PROTOCOL, type: FromWorker.served, pid: msg.pid, id: msg.id, ...out }, out.ok ? [out.output.buffer] : []);
    serveDirect();
    return;
  }
  const { pid } = msg;
  const proc = runProcess(msg, providers, post, () => post({ v: WORKER_PROTOCOL, type: FromWorker.running, pid }));
  current = { pid, proc };
  received = 0;
  // After this task: what the start queued (its `exit` handler) is in place before the worker sleeps.
  if (proc.serveDirect !== undefined) setTimeout(serveDirect, 0);
  void proc.exit.then((exit) => {
    if (current?.pid === pid) current = null;
    post({ v: WORKER_PROTOCOL, type: FromWorker.exited, pid, ...exit });
  });
};

// A JS module may close its own worker (close()); the page is told nothing of it by the browser,
// and Chromium may keep a closed worker's thread around meanwhile. The glue says so first.
const closeWorker = scope.close.bind(globalThis);
const closing = (): void => {
  post({ v: WORKER_PROTOCOL, type: FromWorker.error, error: new KernelError('ipc/closed', 'the module closed its worker').toJSON() });
  closeWorker();
};
Object.defineProperty(Object.getPrototypeOf(globalThis), 'close', { value: closing, configurable: false, writable: false });
Object.defineProperty(globalThis, 'close', { value: closing, configurable: false, writable: false });

// The worker holds a Web Lock for as long as it lives and names it in `ready`: a worker that
// closes itself (a JS module may call close()) or whose thread dies sends nothing more, and the
// page learns of it when its request for the lock is granted.
const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
if (locks === undefined) {
  post({ v: WORKER_PROTOCOL, type: FromWorker.ready });
} else {
  const lock = `${WORKER_LOCK_PREFIX}${crypto.randomUUID()}`;
  void locks.request(lock, () => {
    post({ v: WORKER_PROTOCOL, type: FromWorker.ready, lock });
    return new Promise<never>(() => {});
  });
}
