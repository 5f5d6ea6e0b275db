/** Page side of the raw baselines: start bare-shim workers and run commands in them. */
import type { RawReply, RunRequest } from './protocol';

/** A bare-shim worker (a fresh Worker each call). */
export function newRawWorker(): Worker {
  return new Worker(new URL('../raw-worker.ts', import.meta.url), { type: 'module', name: 'raw' });
}

/** What one run of a command in a raw worker gave. */
export interface RawRun {
  code: number;
  stdout: string;
  /** Bytes that arrived as `out` messages (stdout mode `post`). */
  posted: number;
}

/**
 * Runs a command in `w`; `onOut` sees every posted write. Settles on `done`; rejects on a
 * worker error.
 */
export function runRaw(w: Worker, req: Omit<RunRequest, 'type'>, onOut?: (data: Uint8Array) => void): Promise<RawRun> {
  return new Promise((ok, fail) => {
    let posted = 0;
    w.onmessage = (e: MessageEvent<RawReply>) => {
      const m = e.data;
      if (m.type === 'out') {
        posted += m.data.length;
        onOut?.(m.data);
        return;
      }
      ok({ code: m.code, stdout: m.stdout, posted });
    };
    w.onerror = (e) => fail(new Error(`raw worker failed: ${e.message}`));
    const msg: RunRequest = { type: 'run', ...req };
    w.postMessage(msg);
  });
}

/** A raw worker answering each message on a port; `once()` is one round trip, ms. */
export function rawEcho(): { once(): Promise<number>; close(): void } {
  const w = new Worker(new URL('../port-worker.ts', import.meta.url), { type: 'module', name: 'raw ports' });
  const { port1, port2 } = new MessageChannel();
  w.postMessage({ type: 'pong', port: port2 }, [port2]);
  const payload = new Uint8Array(16);
  return {
    once: () =>
      new Promise((ok) => {
        const t0 = performance.now();
        port1.onmessage = () => ok(performance.now() - t0);
        port1.postMessage(payload);
      }),
    close: () => {
      port1.close();
      w.terminate();
    },
  };
}
