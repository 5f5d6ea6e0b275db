/** The kernel and its public API (what `window.kernel` is). */
import { Kernel, type KernelOptions } from './kernel';

export { Kernel, type KernelOptions } from './kernel';
export { KernelError, isKernelError, type KernelErrorCode, type KernelErrorData } from './errors';
export * from './types';

/** Creates a kernel; `await kernel.ready` before relying on it. */
export function createKernel(opts?: KernelOptions): Kernel {
  return new Kernel(opts);
}
