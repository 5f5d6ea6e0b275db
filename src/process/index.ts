/**
 * The process runtime: everything that runs inside a module's realm, whatever hosts it (a worker
 * today; a sandboxed frame's worker or the page later). WASI, the guest-import plumbing, each
 * capability's imports. It imports only ipc/ and the floor, and is type-checked without the DOM
 * (src/process/tsconfig.json). Hosts load `worker-entry.ts` as a worker script, or call
 * `runProcess` where a process runs in their own realm.
 */
export { runProcess } from './run';
export type { ScriptHandle, ScriptMessage } from './script';
export { providers } from './capabilities';
export type { GuestContext, GuestFunction, GuestImports, GuestProvider, RunningProcess } from './guest';
