/**
 * The kernel and its public API (what `window.kernel` is): the top of the system. Only the page
 * (`main.ts`), the shell and tests import it.
 */
import { Kernel, type KernelOptions } from './kernel';
import { standardCapabilities } from './standard-capabilities';

export { Kernel, type KernelOptions } from './kernel';
export { KernelError, isKernelError, describePermission, grantList, type KernelErrorCode, type KernelErrorData } from '../common';
export type { CapabilityHost, KernelCapability, Caller, CallHandler } from '../capability';
export * from './types';
export type { AddressSpace, SlotUse } from './memory-slots';
export type { HostResources } from '../hosts';
export { KV_LIMITS, type KvApi, type KvGroupInfo, type KvValue, type KvWatcher } from '../kv';
export { manifestSettings } from './spawn-config';
export type { ProvidedFunction, ProvidedResult } from './providers';
export type { BlockView, CurrentPlugin, HostFunction } from './current-plugin';
export type { ExtismManifest, ExtismManifestWasm } from './extism-manifest';
export type { TransformFunction, TransformInfo, TransformRefusal, TransformsApi } from './transforms';

/** Creates a kernel with the standard capabilities; `await kernel.ready` before relying on it. */
export function createKernel(opts: KernelOptions = {}): Kernel {
  return new Kernel({ capabilities: standardCapabilities(opts.dbName), ...opts });
}
