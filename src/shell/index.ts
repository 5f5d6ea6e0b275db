/** The shell: the page's user interface, built from lit components over `window.kernel`. */
import '@xterm/xterm/css/xterm.css';
import './shell.css';
import type { KernelApi } from '../kernel';
import { Desktop } from './desktop';
import type { ShellBoot } from './types';

export type { BootStatus, ShellBoot } from './types';
export { LineDiscipline, type LineAction } from './line-discipline';
export { splitArgs, joinArgs } from './args';
export { installRequest } from './install-link';

/**
 * Shows the desktop for `kernel` in `root`: `root` itself if it is a `<webmk-desktop>`, else the
 * first one inside it, else a new one appended to it. Returns the desktop element.
 */
export function mountShell(root: HTMLElement, kernel: KernelApi, boot: ShellBoot): Desktop {
  let desktop = root instanceof Desktop ? root : root.querySelector('webmk-desktop');
  if (desktop === null) desktop = root.appendChild(document.createElement('webmk-desktop'));
  desktop.kernel = kernel;
  desktop.boot = boot;
  return desktop;
}
