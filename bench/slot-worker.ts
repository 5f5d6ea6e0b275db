/**
 * The direct-call protocol alone (ADR 0027), between two bare workers: `server` serves a call
 * slot with an echo in JS; `caller` makes `n` calls through it and posts the mean in
 * microseconds. No wasm, no Extism, no kernel: what the slot's protocol itself costs beside the
 * raw Atomics round trip, to tell it from the rest of a module -> module call.
 */
import { CallSpace, SlotPool, callDirect, serveSlot } from '../src/ipc';

interface WorkerScope {
  postMessage(message: { usPerCall: number } | { ready: true; slot: number; serial: number }): void;
  onmessage: ((e: MessageEvent<{ role: 'server' | 'caller'; sab: SharedArrayBuffer; n: number; slot?: number; serial?: number }>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e) => {
  const { role, sab, n } = e.data;
  const space = new CallSpace(sab);
  if (role === 'server') {
    const taken = new SlotPool(space).take();
    if (taken === undefined) return;
    scope.postMessage({ ready: true, ...taken });
    // It serves until the bench ends the worker.
    serveSlot(space, taken.slot, taken.serial, (_fn, input) => ({ ok: true, output: input }), () => 0, () => false);
    return;
  }
  const g = { slot: e.data.slot ?? 0, serial: e.data.serial ?? 0, epoch: space.epoch(), timeoutMs: 10_000, counter: 0 };
  const input = new TextEncoder().encode('0123456789abcdef');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) callDirect(space, g, 'echo', input, { pid: 1, me: undefined, until: Infinity });
  scope.postMessage({ usPerCall: ((performance.now() - t0) * 1000) / n });
};
