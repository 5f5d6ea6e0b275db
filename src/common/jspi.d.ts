/** JavaScript Promise Integration (Chrome 137+), which the DOM typings do not have yet. */
declare namespace WebAssembly {
  /** Wraps an async function so a wasm import of it suspends the module until it settles. */
  class Suspending {
    constructor(fn: (...args: never[]) => Promise<unknown>);
  }
  /** Wraps a wasm export so that it may suspend; it returns a promise of its result. */
  function promising(fn: (...args: never[]) => unknown): (...args: unknown[]) => Promise<unknown>;
}
