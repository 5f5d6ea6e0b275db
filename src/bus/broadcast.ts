/**
 * Messages between tabs of the same app (BroadcastChannel). Incoming data is `unknown`; the
 * listener parses it.
 */

/** One named channel shared by every tab of this app. */
export interface Broadcast {
  post(data: unknown): void;
  close(): void;
}

/** Opens `name`, scoped to the app's own path so two apps on one origin do not mix. */
export function openBroadcast(name: string, onMessage: (data: unknown) => void): Broadcast {
  const scope = typeof location === 'undefined' ? '' : new URL('./', location.href).pathname;
  const channel = new BroadcastChannel(`webmk:${scope}:${name}`);
  channel.onmessage = (e: MessageEvent<unknown>) => onMessage(e.data);
  let closed = false;
  return {
    // Work still under way when its kernel was disposed (a store write settling) may post after
    // the close: nothing is left to hear it, so it goes nowhere instead of throwing.
    post: (data) => {
      if (!closed) channel.postMessage(data);
    },
    close: () => {
      closed = true;
      channel.close();
    },
  };
}
