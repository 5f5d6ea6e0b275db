/// <reference lib="webworker" />
/**
 * The service worker. It precaches the whole build (app, icons, manifest, example modules),
 * answers from that precache so a reload works offline, serves the app shell to every
 * navigation, and adds the cross-origin isolation headers to all it serves.
 *
 * Updates: a new worker installs beside the old one and waits; the old one keeps serving its
 * own precache until the page sends SKIP_WAITING (the person chose to reload).
 */
import { clientsClaim } from 'workbox-core';
import {
  addPlugins,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
  type PrecacheEntry,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';
import { isolationPlugin } from './isolation';
import { SW_PROTOCOL_VERSION, SwMessageType, type SwErrorMessage } from './protocol';

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<string | PrecacheEntry> };

addPlugins([isolationPlugin]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// The app's own URL with a query (a launch, a shared link) gets the shell too. Only that
// folder: the shell's relative URLs would resolve wrongly from a deeper path.
const shellPath = new URL(self.registration.scope).pathname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    allowlist: [new RegExp(`^${shellPath}(index\\.html)?(\\?.*)?$`)],
  }),
);

// What is not precached still gets the headers; cross-origin requests are left to the browser.
registerRoute(({ sameOrigin }) => sameOrigin, new NetworkOnly({ plugins: [isolationPlugin] }));

// The first install takes the open page at once so its fetches are served from here too.
clientsClaim();

self.addEventListener('message', (event) => {
  const data: unknown = event.data;
  if (isSkipWaiting(data)) {
    void self.skipWaiting();
    return;
  }
  const reply: SwErrorMessage = {
    type: SwMessageType.error,
    v: SW_PROTOCOL_VERSION,
    code: 'sw/unknown-message',
    message: 'the service worker does not understand this message',
  };
  event.source?.postMessage(reply);
});

function isSkipWaiting(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === SwMessageType.skipWaiting
  );
}
