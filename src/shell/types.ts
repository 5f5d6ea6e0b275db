/** What the shell needs of the boot result (the page's isolation and update state). */

/** Whether the page is cross-origin isolated, and how its service worker stands. */
export interface BootStatus {
  isolated: boolean;
  serviceWorker: 'active' | 'installing' | 'unsupported' | 'failed';
  /** Why the page is not isolated (or the worker failed), in words for people. */
  reason?: string;
}

/** The boot handle: dispatches `'status'` and `'update-available'`; `applyUpdate()` reloads. */
export interface ShellBoot extends EventTarget {
  readonly status: BootStatus;
  /** True once a new version waits (the event may have fired before the shell listened). */
  readonly updateAvailable?: boolean;
  applyUpdate(): void;
}
