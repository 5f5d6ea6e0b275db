/**
 * Registration of the app's service worker (`sw/`) and the update flow: a new version is
 * announced once it is installed and waiting, and taken only when the person asks.
 */
import { SW_PROTOCOL_VERSION, SwMessageType, type SkipWaitingMessage } from '../../sw/protocol';

/** How often an open page asks the server whether a new version was deployed. */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

/** Registers `sw.js` next to the page, so its scope is the folder the app is served from. */
export function registerServiceWorker(): Promise<ServiceWorkerRegistration> {
  return navigator.serviceWorker.register(new URL('sw.js', document.baseURI));
}

/** Resolves once the registration has an activated worker, or with null if install failed. */
export function whenActivated(registration: ServiceWorkerRegistration): Promise<boolean> {
  if (registration.active?.state === 'activated') return Promise.resolve(true);
  const worker = registration.installing ?? registration.waiting ?? registration.active;
  if (worker === null) return Promise.resolve(false);
  return new Promise((settle) => {
    const check = (): void => {
      if (worker.state === 'activated') settle(true);
      else if (worker.state === 'redundant') settle(registration.active?.state === 'activated');
      else return;
      worker.removeEventListener('statechange', check);
    };
    worker.addEventListener('statechange', check);
    check();
  });
}

/**
 * Calls `onWaiting` whenever a new version is installed and waits behind the one that
 * controls this page (also if one already waited when the page loaded), and keeps checking
 * for new deploys while the page is open.
 */
export function watchForUpdates(registration: ServiceWorkerRegistration, onWaiting: () => void): void {
  const announceIfWaiting = (): void => {
    // Without a controller this is the first install, not an update.
    if (registration.waiting !== null && navigator.serviceWorker.controller !== null) onWaiting();
  };
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') announceIfWaiting();
    });
  });
  announceIfWaiting();
  setInterval(() => {
    registration.update().catch(() => {
      // Offline or server down: the next check tries again.
    });
  }, UPDATE_CHECK_MS);
}

/**
 * Reloads this page whenever the version that controls it is replaced: after `skipWaiting`
 * here, or in another tab where the person chose to update. Old code never runs on under a
 * new worker, whose precache no longer holds the old files. The first install taking an
 * uncontrolled page is not a replacement and reloads nothing.
 */
export function reloadOnReplacement(): void {
  let current = navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    const replaced = current !== null;
    current = navigator.serviceWorker.controller;
    if (replaced) location.reload();
  });
}

/** Tells the waiting worker to take over; `reloadOnReplacement` then reloads the page. */
export function activateWaiting(registration: ServiceWorkerRegistration): boolean {
  const waiting = registration.waiting;
  if (waiting === null) return false;
  const message: SkipWaitingMessage = { type: SwMessageType.skipWaiting, v: SW_PROTOCOL_VERSION };
  waiting.postMessage(message);
  return true;
}
