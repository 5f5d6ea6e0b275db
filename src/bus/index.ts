/** Messaging: the pub/sub bus (broker on the page, guest imports in workers) and tab broadcast. */
export { openBroadcast, type Broadcast } from './broadcast';
export { busService, type BusApi, type BusOptions, type BusStats, type SubscriptionInfo } from './service';
export type { TopicStats } from './monitor';
