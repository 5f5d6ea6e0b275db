/** The capability contract: how bus, graphics and later capabilities plug into the kernel. */
export { CallTable, type CallHandler, type Caller } from './calls';
export type { CapabilityHost, KernelCapability, ParkedProcess } from './contract';
