/** Messaging between contexts: today the cross-tab broadcast the registry uses. */
export { openBroadcast, type Broadcast } from './broadcast';
