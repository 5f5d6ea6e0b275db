/** Shapes the shell's parts share: the boot result it is given, the examples it offers. */

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

/** One entry of `modules/index.json`. */
export interface Example {
  name: string;
  file: string;
  description: string;
  /** The args text to prefill the Run field with. */
  args: string;
}
