/**
 * A wasm busy loop that counts in shared memory, so the page can see when the thread really
 * stops after `worker.terminate()` (the loop itself never returns).
 */

/** (module (import "e" "m" (memory 1 1 shared)) (func (export "f") (loop atomic-add [0] 1; br 0))) */
const LOOP = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 9, 1, 1, 101, 1, 109, 2, 3, 1, 1, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10,
  18, 1, 16, 0, 3, 64, 65, 0, 65, 1, 254, 30, 2, 0, 26, 12, 0, 11, 11,
]);

interface WorkerScope {
  onmessage: ((e: MessageEvent<WebAssembly.Memory>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e) => {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(LOOP), { e: { m: e.data } });
  const f = instance.exports.f;
  if (typeof f === 'function') f();
};
