/**
 * A migratable service parked between two calls (ADR 0028): its stack is empty then, so its
 * linear memory and its exported copies of its mutable globals are its whole state. The kernel's
 * request to park (the control word, ADR 0019) is noticed while the worker waits for a call; a
 * call being served finishes first. Resumed, the instance gets the memory and globals back
 * instead of running `_initialize` again.
 */
import { GLOBAL_EXPORT_PREFIX } from '../common';
import { MIGRATE_CONTROL, type MigrateStart, type Snapshot } from '../ipc';

/** Restores a snapshot into a fresh instance (before any call). */
export function restoreService(instance: WebAssembly.Instance, memory: WebAssembly.Memory, snap: Snapshot): void {
  const pages = snap.memory.byteLength / 65536 - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
  new Uint8Array(memory.buffer).set(snap.memory);
  // Copied in: the start message (kept while the service runs) need not hold a second copy.
  snap.memory = new Uint8Array(0);
  for (const [name, value] of snap.globals) {
    const g = instance.exports[name];
    if (g instanceof WebAssembly.Global) g.value = value;
  }
}

/** The snapshot of a service between two calls. */
function captureService(instance: WebAssembly.Instance, memory: WebAssembly.Memory, clockOffsetNs: number): Snapshot {
  const globals: Array<[string, number | bigint]> = [];
  for (const [name, g] of Object.entries(instance.exports)) {
    if (name.startsWith(GLOBAL_EXPORT_PREFIX) && g instanceof WebAssembly.Global) globals.push([name, g.value as number | bigint]);
  }
  return { v: 1, memory: new Uint8Array(memory.buffer).slice(), globals, data: 0, monotonicNs: performance.now() * 1e6 + clockOffsetNs, parkedIn: 'serve', providers: {} };
}

/**
 * Waits for the kernel's request to park while the service waits for calls; then `parked` gets
 * its snapshot. `stop` ends the wait (the service ended).
 */
export function watchPark(m: MigrateStart, instance: WebAssembly.Instance, memory: WebAssembly.Memory, parked: (s: Snapshot) => void): () => void {
  const words = new Int32Array(m.control);
  const clockOffsetNs = m.resume !== undefined ? m.resume.monotonicNs - performance.now() * 1e6 : 0;
  let stopped = false;
  const wait = async (): Promise<void> => {
    while (!stopped) {
      if (Atomics.load(words, MIGRATE_CONTROL.park) !== 0) {
        parked(captureService(instance, memory, clockOffsetNs));
        return;
      }
      // Calls are served on this worker's event loop, between two turns of this wait.
      await Atomics.waitAsync(words, MIGRATE_CONTROL.park, 0).value;
    }
  };
  void wait();
  return () => {
    stopped = true;
    Atomics.notify(words, MIGRATE_CONTROL.park);
  };
}
