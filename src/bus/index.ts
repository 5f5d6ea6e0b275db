/** Messaging, page side: the pub/sub bus's broker and tab broadcast (modules' imports are in process/capabilities/bus.ts). */
export { openBroadcast, type Broadcast } from './broadcast';
export { busService, type BusApi, type BusOptions, type BusStats, type SubscriptionInfo } from './service';
export type { TopicStats } from './monitor';
