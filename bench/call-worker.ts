/**
 * The raw baseline of a kernel-call flood: a worker that asks the page for something `n` times in
 * a row, each time waiting for the answer (a postMessage each way), as a module's blocking kernel
 * call does through webmk.
 */
export {};

interface WorkerScope {
  postMessage(message: { type: 'ask'; i: number } | { type: 'done'; calls: number; bytes: number }): void;
  onmessage: ((e: MessageEvent<{ type: 'go'; n: number } | { type: 'answer'; text: string }>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

let left = 0;
let calls = 0;
let bytes = 0;

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'go') {
    left = m.n;
  } else {
    calls++;
    bytes += m.text.length;
  }
  if (left === 0) {
    scope.postMessage({ type: 'done', calls, bytes });
    return;
  }
  left--;
  scope.postMessage({ type: 'ask', i: calls });
};
