/** Execution modes. Each implements the `Host` contract of types.ts. */
export type { CallResult, Host, HostExit, HostStart, HostedProcess } from './types';
export { EXIT_CODES } from './types';
export { WorkerHost, type WorkerHostOptions } from './worker/host';
