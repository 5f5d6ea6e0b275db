/** Messages between the bench page and its baseline workers (types only). */

/** Page -> baseline WASI worker: run one command with the bare shim. */
export interface RunRequest {
  type: 'run';
  /** The compiled module, or its bytes for the worker to compile. */
  module: WebAssembly.Module | Uint8Array;
  args: string[];
  env: string[];
  /** `collect`: gather stdout and send it with `done`; `post`: post every write at once. */
  stdout: 'collect' | 'post';
}

/** Baseline WASI worker -> page. */
export type RawReply =
  | { type: 'out'; data: Uint8Array }
  | { type: 'done'; code: number; stdout: string };

/** Page -> ring worker: set up one side of a raw SPSC ring. */
export interface RingSetup {
  type: 'setup';
  role: 'producer' | 'consumer' | 'echo';
  sab: SharedArrayBuffer;
  /** `echo` only: the ring it copies into (the page reads it). */
  out?: SharedArrayBuffer;
  /** Bytes to move in total. */
  total: number;
  /** Bytes per write/read call. */
  chunk: number;
}

/** Page -> ring worker: start moving bytes. */
export interface RingGo {
  type: 'go';
}

/** Ring worker -> page. */
export type RingReply = { type: 'ready' } | { type: 'done'; bytes: number; checksum: number };
