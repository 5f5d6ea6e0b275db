export {};

/**
 * Raw baselines for the bus: MessagePort messaging between two workers, with nothing of webmk.
 *   { type: 'pong', port }                  answers every message on `port` with a 1-byte message
 *   { type: 'ping', port, n, warmup }       ping-pong n times; replies with the round trips (ms)
 *   { type: 'sink', port, n }               counts n messages (or batches' contents); replies
 *                                           with ms from the first to the last
 *   { type: 'flood', ports, n, size, batch } posts n messages of `size` bytes to every port,
 *                                           `batch` per postMessage (1: one message each)
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
  | { type: 'flood'; ports: MessagePort[]; n: number; size: number; batch: number };

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
