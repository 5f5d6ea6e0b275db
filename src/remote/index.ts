/** Remote nodes: tabs and devices, reached through links. */
export type { Link, LinkEnd, LinkEndReason, LinkMessage } from './link';
export {
  createDevicesHandle,
  startDevices,
  parsePairingLink,
  type DeviceInfo,
  type Devices,
  type DevicesEvent,
  type DevicesHandle,
  type DevicesOptions,
} from './devices';
