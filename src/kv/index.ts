/** The key-value store, page side (pntOS's registry): `kernel.kv`, its guest calls, change notifications (modules' imports are in process/capabilities/kv.ts). */
export { kvService, type KvApi, type KvOptions, type KvWatcher } from './service';
export { KV_LIMITS, type KvValue } from './limits';
export type { KvBroadcast, KvGroupInfo, KvStorage } from './storage';
export type { KvChanges } from './watchers';
