/** Remote nodes: tabs and devices, reached through links (ADR 0020). */
export type { Link, LinkEnd, LinkEndReason, LinkMessage } from './link';
export { Remote, type RemoteOptions, type RemoteResources } from './remote';
export type { NodeInfo, NodeGone } from './nodes';
export type { RemoteModule, SpawnRequest } from './protocol';
export type { ServedProcess } from './serve';
export type { BusLike } from './bus-bridge';
export type { WindowSink, WindowsLike } from './windows';
export { fromWire } from './snapshot-wire';
export {
  allowAlways,
  createDevicesHandle,
  followDevices,
  loadAllowed,
  startDevices,
  parsePairingLink,
  type DeviceInfo,
  type Devices,
  type DevicesEvent,
  type DevicesHandle,
  type DevicesOptions,
} from './devices';
