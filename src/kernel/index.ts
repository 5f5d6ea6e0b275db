/** The kernel and its public API (what `window.kernel` is). */
import { Kernel, type KernelOptions } from './kernel';
import { standardServices } from './standard-services';

export { Kernel, type KernelOptions } from './kernel';
export { KernelError, isKernelError, type KernelErrorCode, type KernelErrorData } from './errors';
export type { Service, ServiceHost } from './services';
export type { Caller, CallHandler } from './calls';
export * from './types';
export { describePermission, grantList } from './permissions';

/** Creates a kernel with the standard services; `await kernel.ready` before relying on it. */
export function createKernel(opts: KernelOptions = {}): Kernel {
  return new Kernel({ services: standardServices(), ...opts });
}
