/**
 * `boot()`: registers the service worker, makes the page cross-origin isolated (one guarded
 * reload at most), and resolves when the page may start the kernel.
 */
import { takeReloadGuard } from './reload-guard';
import {
  activateWaiting,
  registerServiceWorker,
  reloadOnReplacement,
  watchForUpdates,
  whenActivated,
} from './service-worker';
import { BootEvent, type Boot, type BootStatus } from './types';

/** The page's boot state; the one object `boot()` resolves with. */
class PageBoot extends EventTarget implements Boot {
  status: BootStatus = { isolated: globalThis.crossOriginIsolated, serviceWorker: 'unsupported' };
  updateAvailable = false;
  registration: ServiceWorkerRegistration | undefined;

  setStatus(status: BootStatus): void {
    this.status = status;
    this.dispatchEvent(new Event(BootEvent.status));
  }

  announceUpdate(): void {
    if (this.updateAvailable) return;
    this.updateAvailable = true;
    // Later than `boot()` resolving, so a caller that awaited it has its listener in place.
    setTimeout(() => this.dispatchEvent(new Event(BootEvent.updateAvailable)));
  }

  applyUpdate(): void {
    if (this.registration !== undefined) activateWaiting(this.registration);
  }
}

let booting: Promise<Boot> | undefined;

/**
 * Boots the page once (later calls get the same promise). Resolves when the kernel may
 * start, isolated or not: `status` says which and why. Never resolves if it reloads the page.
 */
export function boot(): Promise<Boot> {
  booting ??= start();
  return booting;
}

async function start(): Promise<Boot> {
  const page = new PageBoot();
  window.webmkBoot = page;
  if (import.meta.env.DEV) {
    await forgetServiceWorker();
    page.status = {
      isolated: crossOriginIsolated,
      serviceWorker: 'unsupported',
      reason: 'development server: no service worker (the server sends the isolation headers)',
    };
    return page;
  }
  if (!('serviceWorker' in navigator)) {
    page.status = { isolated: crossOriginIsolated, serviceWorker: 'unsupported', reason: noWorkerReason() };
    return page;
  }
  let registration: ServiceWorkerRegistration;
  try {
    registration = await registerServiceWorker();
  } catch (error) {
    page.status = {
      isolated: crossOriginIsolated,
      serviceWorker: 'failed',
      reason: `the service worker could not be registered (${errorText(error)}), so the app will not work offline`,
    };
    return page;
  }
  page.registration = registration;
  reloadOnReplacement();
  watchForUpdates(registration, () => page.announceUpdate());
  return crossOriginIsolated ? whileInstalling(page, registration) : isolate(page, registration);
}

/** Already isolated by the server's headers: report the worker's progress as it goes. */
function whileInstalling(page: PageBoot, registration: ServiceWorkerRegistration): PageBoot {
  if (registration.active !== null) {
    page.status = { isolated: true, serviceWorker: 'active' };
    return page;
  }
  page.status = { isolated: true, serviceWorker: 'installing' };
  void whenActivated(registration).then((active) =>
    page.setStatus(
      active
        ? { isolated: true, serviceWorker: 'active' }
        : { isolated: true, serviceWorker: 'failed', reason: 'the service worker failed to install; the app will not work offline' },
    ),
  );
  return page;
}

/** Not isolated: once the worker is active, reload once so it serves the page with headers. */
async function isolate(page: PageBoot, registration: ServiceWorkerRegistration): Promise<PageBoot> {
  if (!(await whenActivated(registration))) {
    page.status = {
      isolated: false,
      serviceWorker: 'failed',
      reason: 'the service worker failed to install, so the page cannot be made cross-origin isolated',
    };
    return page;
  }
  const guard = takeReloadGuard();
  if (guard === 'taken') {
    location.reload();
    return new Promise<never>(() => {});
  }
  page.status = {
    isolated: false,
    serviceWorker: 'active',
    reason:
      guard === 'used'
        ? 'the page is still not cross-origin isolated after reloading once (a hard reload skips the service worker; a normal reload may help)'
        : 'the page cannot reload itself for cross-origin isolation here (no session storage); reload it once by hand',
  };
  return page;
}

function noWorkerReason(): string {
  return isSecureContext
    ? 'this browser offers no service workers (private mode?), so the page cannot be made cross-origin isolated or work offline'
    : 'service workers need https or localhost; served over plain http the page cannot be made cross-origin isolated or work offline';
}

/** A worker left from a production build on this origin would serve stale files to the dev server. */
async function forgetServiceWorker(): Promise<void> {
  const registration = await navigator.serviceWorker?.getRegistration().catch(() => undefined);
  await registration?.unregister();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
