/** What `boot()` found out about the page, for the shell to show in plain words. */
export interface BootStatus {
  /** `crossOriginIsolated`: SharedArrayBuffer and Atomics.wait are available to workers. */
  isolated: boolean;
  /**
   * `active`: a service worker serves this app (offline, isolation headers);
   * `installing`: it is still being installed (the page is isolated by its server's headers);
   * `unsupported`: no service worker here (old or private browser, plain http, dev server);
   * `failed`: registration or installation failed.
   */
  serviceWorker: 'active' | 'installing' | 'unsupported' | 'failed';
  /** Why the page is not isolated or has no worker, in a sentence for the person. */
  reason?: string;
}

/**
 * The page's boot state. Dispatches `status` (an `Event`; read `status`) when the status
 * changes, and `update-available` when a new version is installed and waiting.
 */
export interface Boot extends EventTarget {
  status: BootStatus;
  /** True once a new version waits; `update-available` has been (or is about to be) dispatched. */
  readonly updateAvailable: boolean;
  /** Switches to the waiting version and reloads the page; does nothing if none waits. */
  applyUpdate(): void;
}

/** Event names a `Boot` dispatches. */
export const BootEvent = {
  status: 'status',
  updateAvailable: 'update-available',
} as const;

declare global {
  interface Window {
    /** The page's `Boot`, for scripts and end-to-end tests (the same object `boot()` returns). */
    webmkBoot?: Boot;
  }
}
