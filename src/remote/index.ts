/** Remote nodes: tabs and devices, reached through links. */
export type { Link, LinkEnd, LinkEndReason, LinkMessage } from './link';
