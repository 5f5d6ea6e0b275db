/** The events the shell's components send up to the desktop, which owns every kernel call. */
import type { Example } from './examples';

/** Detail of each shell event, by type. */
export interface ShellEventDetail {
  /** Spawn a module in a new terminal window. */
  'webmk-run': { name: string; args: string[] };
  /** Uninstall a module (already confirmed by the person). */
  'webmk-uninstall': { name: string };
  /** Download and install an example module. */
  'webmk-install-example': { example: Example };
  /** Kill a process the shell holds a handle for. */
  'webmk-kill': { pid: number };
  /** Close a terminal window (killing its process if it still runs). */
  'webmk-close': { pid: number };
}

export type ShellEventType = keyof ShellEventDetail;

/** Dispatches a bubbling shell event from `from`. */
export function emit<T extends ShellEventType>(from: EventTarget, type: T, detail: ShellEventDetail[T]): void {
  from.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap {
    'webmk-run': CustomEvent<ShellEventDetail['webmk-run']>;
    'webmk-uninstall': CustomEvent<ShellEventDetail['webmk-uninstall']>;
    'webmk-install-example': CustomEvent<ShellEventDetail['webmk-install-example']>;
    'webmk-kill': CustomEvent<ShellEventDetail['webmk-kill']>;
    'webmk-close': CustomEvent<ShellEventDetail['webmk-close']>;
  }
}
