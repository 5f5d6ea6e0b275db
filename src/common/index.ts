/**
 * The floor: what every layer shares. KernelError and its codes, the data shapes, errno values,
 * exit codes, naming and permission rules. It imports nothing of `src/`.
 */
export { KernelError, isKernelError, type KernelErrorCode, type KernelErrorData } from './errors';
export { Errno } from './errno';
export { EXIT_CODES, isWall } from './exit-codes';
export { isModuleName, isTopic, topicAllowed, topicMatches } from './names';
export { KERNEL_CALLS, describePermission, grantList, grantsFrom, kvAllowed, noGrants, requestedPermissions } from './permissions';
export type * from './types';
export type * from './packages';
export {
  MODULE_CONFIG_FIELDS,
  checkModuleConfig,
  checkRestartPolicy,
  checkStartOrder,
  checkWatchdogMs,
  isExecutionMode,
  manifestConfig,
} from './supervision';
export { sharesMemory } from './modes';
export { MAX_CALL_TIMEOUT_MS, hostAllowed, isHostPattern, serviceSettings, type ServiceSettings } from './service-manifest';
export { BLOCKING_IMPORTS, GLOBAL_EXPORT_PREFIX } from './migrate';
export { MAX_IN_PROCESS, checkInProcess } from './in-process';
