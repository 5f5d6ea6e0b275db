/**
 * Entry of a module's worker. Kernel-owned glue: it parses what the page sends, runs one
 * process at a time, relays the process's calls into the kernel, and reports how it ended. The
 * wasm code reaches nothing but its imports.
 */
import { KernelError } from '../common';
import { FromWorker, ToWorker, WORKER_PROTOCOL, parseToWorker, type FromWorkerMessage } from '../ipc';
import { providers } from './capabilities';
import type { RunningProcess } from './guest';
import { runProcess } from './run';

interface WorkerScope {
  postMessage(message: FromWorkerMessage, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const post = (msg: FromWorkerMessage, transfer: Transferable[] = []): void => scope.postMessage(msg, transfer);
let current: { pid: number; proc: RunningProcess } | null = null;

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
  const { pid } = msg;
  const proc = runProcess(msg, providers, post, () => post({ v: WORKER_PROTOCOL, type: FromWorker.running, pid }));
  current = { pid, proc };
  void proc.exit.then((exit) => {
    if (current?.pid === pid) current = null;
    post({ v: WORKER_PROTOCOL, type: FromWorker.exited, pid, ...exit });
  });
};

post({ v: WORKER_PROTOCOL, type: FromWorker.ready });
