/**
 * The raw baseline of a module -> module call: two workers hand a turn back and forth on one
 * shared Int32 with Atomics.wait/notify (the least a blocking call between workers can cost).
 * `ping` times `n` round trips and posts the mean in microseconds; `pong` answers `n` times.
 */
export {};

interface WorkerScope {
  postMessage(message: { usPerTrip: number } | { ready: true }): void;
  onmessage: ((e: MessageEvent<{ role: 'ping' | 'pong'; sab: SharedArrayBuffer; n: number }>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

const ASK = 1;
const ANSWERED = 2;

scope.onmessage = (e) => {
  const { role, sab, n } = e.data;
  const h = new Int32Array(sab);
  if (role === 'pong') {
    scope.postMessage({ ready: true });
    for (let i = 0; i < n; i++) {
      let v: number;
      while ((v = Atomics.load(h, 0)) !== ASK) Atomics.wait(h, 0, v);
      Atomics.store(h, 0, ANSWERED);
      Atomics.notify(h, 0);
    }
    return;
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    Atomics.store(h, 0, ASK);
    Atomics.notify(h, 0);
    while (Atomics.load(h, 0) === ASK) Atomics.wait(h, 0, ASK);
  }
  scope.postMessage({ usPerTrip: ((performance.now() - t0) * 1000) / n });
};
