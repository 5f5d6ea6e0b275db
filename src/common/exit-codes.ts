/** Exit codes for ends that are not the module's own choice (shell conventions: 128 + signal). */
export const EXIT_CODES = {
  /** SIGABRT: a trap. */
  crashed: 134,
  /** SIGKILL, as an OOM killer does. */
  'memory-exceeded': 137,
  /** SIGKILL. */
  killed: 137,
  /** SIGKILL: the kernel ended it for computing too long without a system call. */
  'watchdog-expired': 137,
  /** "cannot execute": the module could not be linked or instantiated. */
  failed: 126,
  /** "cannot execute": the renderer had no address space left for one more wasm memory. */
  'no-memory-slot': 126,
  /** SIGHUP: the link to the node it ran on was lost, like a terminal hanging up. */
  'link-lost': 129,
} as const;

/** V8's words when an instantiation cannot reserve a wasm memory's address space (the renderer's wall). */
const WALL = /cannot allocate wasm memory/i;

/** Whether an instantiation failed at the renderer's address-space wall (not at the module's own limit). */
export function isWall(message: string | undefined): boolean {
  return message !== undefined && WALL.test(message);
}
