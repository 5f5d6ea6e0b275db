/**
 * Messages between the page (src/boot) and the service worker. Types and tags only.
 * The page is the only sender; the worker answers an unknown message with an error.
 */

/** Protocol version, carried by every message so an old page and a new worker can tell. */
export const SW_PROTOCOL_VERSION = 1;

/** Message tags. */
export const SwMessageType = {
  /** Page -> waiting worker: activate now; the person chose to reload into the new version. */
  skipWaiting: 'SKIP_WAITING',
  /** Worker -> page: the message was not understood. */
  error: 'ERROR',
} as const;

/** Page -> worker. */
export interface SkipWaitingMessage {
  type: typeof SwMessageType.skipWaiting;
  v: typeof SW_PROTOCOL_VERSION;
}

/** Worker -> page. */
export interface SwErrorMessage {
  type: typeof SwMessageType.error;
  v: typeof SW_PROTOCOL_VERSION;
  code: 'sw/unknown-message';
  message: string;
}

export type PageToSwMessage = SkipWaitingMessage;
export type SwToPageMessage = SwErrorMessage;
