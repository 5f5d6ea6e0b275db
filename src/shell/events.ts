/** The events the shell's components send up to the desktop, which owns every kernel call. */
import type { ExecutionMode, ModuleConfig } from '../kernel';
import type { CommandStage } from './command-line';
import type { Example } from './types';

/** Detail of each shell event, by type. */
export interface ShellEventDetail {
  /** Spawn a module in a new terminal window. */
  'webmk-run': { name: string; args: string[]; mode?: ExecutionMode; node?: string };
  /** Uninstall a module (already confirmed by the person). */
  'webmk-uninstall': { name: string };
  /** Download and install an example module. */
  'webmk-install-example': { example: Example };
  /** Kill a process the shell holds a handle for. */
  'webmk-kill': { pid: number };
  /** Start a process again under its pid (`kernel.restart`). */
  'webmk-restart': { pid: number };
  /** Hibernate a migratable process (`kernel.hibernate`). */
  'webmk-hibernate': { pid: number };
  /** Resume a hibernated process, opening a terminal on it if none shows it. */
  'webmk-resume': { pid: number };
  /** Move a migratable process to another execution mode, or another node (`kernel.setMode`). */
  'webmk-move': { pid: number; mode: ExecutionMode; node?: string };
  /** Close a terminal window (killing its process if it still runs). */
  'webmk-close': { pid: number };
  /** Run stages connected by pipes in one terminal window; `line` is what was typed. */
  'webmk-pipeline': { stages: CommandStage[]; line: string };
  /** Open the permissions dialog for a module. */
  'webmk-permissions': { name: string };
  /** The person answered the permissions dialog: what to grant, or null to change nothing. */
  'webmk-grant': { name: string; permissions: 'all' | string[] | null };
  /** Open the Configure… dialog for a module. */
  'webmk-configure': { name: string };
  /** The person answered the Configure… dialog: the configuration to store, or null to change nothing. */
  'webmk-config-answer': { name: string; config: ModuleConfig | null; migratable?: boolean };
  /** Open the Files… view of a module's home. */
  'webmk-files': { name: string };
  /** Close the Files… view. */
  'webmk-files-close': Record<string, never>;
  /** Pick a folder to mount at /data when the module runs (or, with `drop`, stop mounting it). */
  'webmk-mount-folder': { name: string; drop?: boolean };
  /** The bus view was opened or closed (the kernel records topics only while it is open). */
  /** Declare a topic pattern global (reaching this app in other tabs). */
  'webmk-declare-global': { pattern: string };
  /** Uninstall a package (already confirmed; `force` when others depend on it and the person agreed). */
  'webmk-uninstall-package': { name: string; force: boolean };
  /** Trust a publisher key, or stop trusting it. */
  'webmk-trust': { publicKey: string; add: boolean; label?: string };
  /** Download and install a module or package from a URL. */
  'webmk-install-url': { url: string };
  /** Download an installed package as a zip. */
  'webmk-export-package': { name: string };
  /** The person answered the question about an untrusted package. */
  'webmk-untrusted-answer': { answer: 'cancel' | 'install' | 'trust' };
}

export type ShellEventType = keyof ShellEventDetail;

/** Dispatches a bubbling shell event from `from`. */
export function emit<T extends ShellEventType>(from: EventTarget, type: T, detail: ShellEventDetail[T]): void {
  from.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap {
    'webmk-run': CustomEvent<ShellEventDetail['webmk-run']>;
    'webmk-mount-folder': CustomEvent<ShellEventDetail['webmk-mount-folder']>;
    'webmk-uninstall': CustomEvent<ShellEventDetail['webmk-uninstall']>;
    'webmk-install-example': CustomEvent<ShellEventDetail['webmk-install-example']>;
    'webmk-kill': CustomEvent<ShellEventDetail['webmk-kill']>;
    'webmk-restart': CustomEvent<ShellEventDetail['webmk-restart']>;
    'webmk-hibernate': CustomEvent<ShellEventDetail['webmk-hibernate']>;
    'webmk-resume': CustomEvent<ShellEventDetail['webmk-resume']>;
    'webmk-move': CustomEvent<ShellEventDetail['webmk-move']>;
    'webmk-close': CustomEvent<ShellEventDetail['webmk-close']>;
    'webmk-pipeline': CustomEvent<ShellEventDetail['webmk-pipeline']>;
    'webmk-permissions': CustomEvent<ShellEventDetail['webmk-permissions']>;
    'webmk-grant': CustomEvent<ShellEventDetail['webmk-grant']>;
    'webmk-configure': CustomEvent<ShellEventDetail['webmk-configure']>;
    'webmk-config-answer': CustomEvent<ShellEventDetail['webmk-config-answer']>;
    'webmk-files': CustomEvent<ShellEventDetail['webmk-files']>;
    'webmk-files-close': CustomEvent<ShellEventDetail['webmk-files-close']>;
    'webmk-declare-global': CustomEvent<ShellEventDetail['webmk-declare-global']>;
    'webmk-uninstall-package': CustomEvent<ShellEventDetail['webmk-uninstall-package']>;
    'webmk-trust': CustomEvent<ShellEventDetail['webmk-trust']>;
    'webmk-untrusted-answer': CustomEvent<ShellEventDetail['webmk-untrusted-answer']>;
    'webmk-install-url': CustomEvent<ShellEventDetail['webmk-install-url']>;
    'webmk-export-package': CustomEvent<ShellEventDetail['webmk-export-package']>;
  }
}
