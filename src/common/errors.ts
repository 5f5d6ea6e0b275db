/**
 * The one error type the kernel rejects with. `code` is namespaced (`registry/invalid-wasm`) and
 * stable; `message` is for people; `details` carries data a caller may act on.
 */
export type KernelErrorCode =
  | 'registry/invalid-wasm'
  | 'registry/empty'
  | 'registry/not-wasm'
  | 'registry/invalid-script'
  | 'registry/truncated'
  | 'registry/invalid-manifest'
  | 'registry/invalid-name'
  | 'registry/quota'
  | 'registry/storage'
  | 'registry/not-found'
  | 'registry/invalid-package'
  | 'registry/missing-file'
  | 'registry/duplicate-name'
  | 'registry/unsafe-path'
  | 'registry/too-large'
  | 'registry/owned'
  | 'registry/missing-dependency'
  | 'registry/has-dependents'
  | 'registry/bad-signature'
  | 'registry/untrusted'
  | 'registry/fetch-failed'
  | 'registry/bad-hash'
  | 'kernel/not-ready'
  | 'kernel/not-isolated'
  | 'kernel/no-memory-slot'
  | 'kernel/unknown-module'
  | 'kernel/bad-argument'
  | 'kernel/unknown-process'
  | 'kernel/spawn-failed'
  | 'kernel/unsupported'
  | 'kernel/timeout'
  | 'service/not-a-service'
  | 'service/no-such-function'
  | 'service/error'
  | 'service/call-loop'
  | 'service/host-not-allowed'
  | 'service/memory-exceeded'
  | 'kv/denied'
  | 'kv/invalid-name'
  | 'kv/too-large'
  | 'kv/quota'
  | 'kv/conflict'
  | 'kv/reentrant'
  | 'transform/invalid-output'
  | 'transform/failed'
  | 'kernel/no-space'
  | 'kernel/storage'
  | 'ipc/malformed'
  | 'ipc/timeout'
  | 'ipc/closed'
  | 'ipc/too-large'
  | 'ipc/unknown-call'
  | 'bus/denied'
  | 'bus/too-large'
  | 'bus/invalid-topic'
  | 'kernel/denied'
  | 'gfx/bad-size'
  | 'gfx/busy'
  | 'gfx/limit'
  | 'gfx/no-window'
  | 'remote/unknown-node'
  | 'remote/not-installed'
  | 'remote/too-large'
  | 'remote/link-lost'
  | 'remote/refused'
  | 'remote/malformed'
  | 'remote/not-paired'
  | 'remote/bad-pairing-link'
  | 'remote/dial-failed'
  | 'remote/no-relay'
  | 'remote/relay-unreachable'
  | 'remote/devices-busy'

  | 'registry/not-migratable'
  | 'migrate/not-migratable'
  | 'migrate/busy'
  | 'migrate/bad-state'
  | 'migrate/failed'
  | 'migrate/unsupported';

/** Plain data form of a KernelError, as it crosses a wire. */
export interface KernelErrorData {
  code: KernelErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** A failure with a stable, namespaced code; tests and callers branch on `code`, not text. */
export class KernelError extends Error {
  override readonly name = 'KernelError';
  readonly code: KernelErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: KernelErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }

  /** The wire form: `{ code, message, details }`. */
  toJSON(): KernelErrorData {
    return { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error that crossed a wire; anything unparseable becomes `ipc/malformed`. */
  static from(data: unknown): KernelError {
    if (data instanceof KernelError) return data;
    if (typeof data === 'object' && data !== null) {
      const { code, message, details } = data as Record<string, unknown>;
      if (typeof code === 'string' && typeof message === 'string') {
        const d = typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {};
        return new KernelError(code as KernelErrorCode, message, d);
      }
    }
    return new KernelError('ipc/malformed', 'an error arrived in an unknown shape', { received: String(data) });
  }
}

/** True for a KernelError with the given code (or any code when none is given). */
export function isKernelError(e: unknown, code?: KernelErrorCode): e is KernelError {
  return e instanceof KernelError && (code === undefined || e.code === code);
}
