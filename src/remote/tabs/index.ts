/** The tabs transport: other tabs of the app on this browser, as links (ADR 0020). */
export { Tabs, type TabsOptions } from './tabs';
export { TabLink } from './tab-link';
export { newNodeId } from './parse';
