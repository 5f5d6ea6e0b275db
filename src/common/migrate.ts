/** Names shared by the Asyncify transform (registry) and the runtime that parks and resumes a migratable module (process). */

/** What every exported copy of an internal mutable global is called: this, then its index. */
export const GLOBAL_EXPORT_PREFIX = '__webmk_global_';

/**
 * The imports a migratable module may be parked in: where it waits for input, time, a message
 * or an answer. Asyncify instruments only the call paths that reach them.
 */
export const BLOCKING_IMPORTS: readonly string[] = [
  'wasi_snapshot_preview1.fd_read',
  'wasi_snapshot_preview1.poll_oneoff',
  'wasi_unstable.fd_read',
  'wasi_unstable.poll_oneoff',
  'webmk.recv',
  'webmk.recv_topic',
  'webmk.call',
  'webmk.gfx_present',
  'webmk.input_poll',
];
