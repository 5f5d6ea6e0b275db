/** Execution modes. Each implements the `Host` contract of types.ts. */
export { NO_HOST_RESOURCES, type Host, type HostResources, type HostStart, type HostedProcess, type Program } from './types';
export { WorkerHost, type WorkerHostOptions } from './worker/host';
export { IframeHost } from './iframe/host';
export { InpageHost } from './inpage/host';
export { countMallocTransform, instrumentAsyncify } from './asyncify/transform';
