export {};

/**
 * Raw baselines for the bus: MessagePort messaging between two workers, with nothing of webmk.
 *   { type: 'pong', port }                  answers every message on `port` with a 1-byte message
 *   { type: 'ping', port, n, warmup }       ping-pong n times; replies with the round trips (ms)
 *   { type: 'sink', port, n }               counts n messages (or batches' contents); replies
 *                                           with ms from the first to the last
 *   { type: 'flood', ports, n, size, batch } posts n messages of `size` bytes to every port,
 *                                           `batch` per postMessage (1: one message each)
 * And doorbells in shared memory (word 0 rung by the pinging side, word 1 by the answering one):
 *   { type: 'bell-ping', sab, n, warmup }   rings word 0 (add, notify) and sleeps on word 1
 *                                           (Atomics.wait) n + warmup times; replies with the
 *                                           round trips (ms)
 *   { type: 'bell-pong', sab }              sleeps on word 0 and answers each ring with a
 *                                           message to its creator; stops when word 0 is -1
 */
interface Scope {
  postMessage(m: unknown): void;
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
}
const scope = globalThis as unknown as Scope;

type Req =
  | { type: 'pong'; port: MessagePort }
  | { type: 'ping'; port: MessagePort; n: number; warmup: number }
  | { type: 'sink'; port: MessagePort; n: number }
  | { type: 'flood'; ports: MessagePort[]; n: number; size: number; batch: number }
  | { type: 'bell-ping'; sab: SharedArrayBuffer; n: number; warmup: number }
  | { type: 'bell-pong'; sab: SharedArrayBuffer };

scope.onmessage = (e) => {
  const req = e.data as Req;
  if (req.type === 'pong') {
    const one = new Uint8Array(1);
    req.port.onmessage = () => req.port.postMessage(one);
  } else if (req.type === 'ping') {
    const rtt: number[] = [];
    let t0 = 0;
    let i = 0;
    req.port.onmessage = () => {
      if (i >= req.warmup) rtt.push(performance.now() - t0);
      i++;
      if (i === req.n + req.warmup) {
        scope.postMessage(rtt);
        return;
      }
      t0 = performance.now();
      req.port.postMessage(new Uint8Array(1));
    };
    t0 = performance.now();
    req.port.postMessage(new Uint8Array(1));
  } else if (req.type === 'sink') {
    let got = 0;
    let first = 0;
    req.port.onmessage = (m: MessageEvent<unknown>) => {
      if (got === 0) first = performance.now();
      got += Array.isArray(m.data) ? m.data.length : 1;
      if (got >= req.n) scope.postMessage(performance.now() - first);
    };
    scope.postMessage('ready');
  } else if (req.type === 'bell-ping') {
    const bell = new Int32Array(req.sab);
    const rtt: number[] = [];
    for (let i = 0; i < req.n + req.warmup; i++) {
      const t0 = performance.now();
      Atomics.add(bell, 0, 1);
      Atomics.notify(bell, 0);
      while (Atomics.load(bell, 1) === i) Atomics.wait(bell, 1, i);
      if (i >= req.warmup) rtt.push(performance.now() - t0);
    }
    scope.postMessage(rtt);
  } else if (req.type === 'bell-pong') {
    const bell = new Int32Array(req.sab);
    for (let seen = 0; ; ) {
      Atomics.wait(bell, 0, seen);
      seen = Atomics.load(bell, 0);
      if (seen < 0) return;
      scope.postMessage(seen);
    }
  } else {
    const msg = new Uint8Array(req.size).fill(120);
    for (let i = 0; i < req.n; i += req.batch) {
      const count = Math.min(req.batch, req.n - i);
      for (const port of req.ports) {
        if (req.batch === 1) port.postMessage(msg.slice());
        else port.postMessage(Array.from({ length: count }, () => msg.slice()));
      }
    }
    scope.postMessage('sent');
  }
};
