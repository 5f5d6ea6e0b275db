/** Execution modes. Each implements the `Host` contract of types.ts. */
export type { Host, HostStart, HostedProcess, Program } from './types';
export { WorkerHost, type WorkerHostOptions } from './worker/host';
export { IframeHost } from './iframe/host';
export { InpageHost } from './inpage/host';
