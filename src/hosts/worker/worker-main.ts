/**
 * Entry of a module's worker. Kernel-owned glue: it parses what the page sends, runs one
 * process at a time, and reports how each ended. The wasm code reaches nothing but its imports.
 */
import { FromWorker, WORKER_PROTOCOL, parseToWorker, type FromWorkerMessage } from '../../ipc';
import { KernelError } from '../../kernel/errors';
import { runProcess } from './run';

interface WorkerScope {
  postMessage(message: FromWorkerMessage): void;
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e) => {
  let msg;
  try {
    msg = parseToWorker(e.data);
  } catch (err) {
    scope.postMessage({ v: WORKER_PROTOCOL, type: FromWorker.error, error: KernelError.from(err).toJSON() });
    return;
  }
  const exit = runProcess(msg, () => scope.postMessage({ v: WORKER_PROTOCOL, type: FromWorker.running, pid: msg.pid }));
  scope.postMessage({ v: WORKER_PROTOCOL, type: FromWorker.exited, pid: msg.pid, ...exit });
};

scope.postMessage({ v: WORKER_PROTOCOL, type: FromWorker.ready });
