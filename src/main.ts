/**
 * The page: boots (isolation, service worker), exposes the kernel as `window.kernel`, mounts the
 * shell, and starts the modules configured to start at boot.
 */
import { boot, consumeLaunchQueue } from './boot';
import { createKernel, type KernelApi } from './kernel';
import { createDevicesHandle, followDevices, type DevicesHandle } from './remote';
import { installRequest, mountShell } from './shell';

declare global {
  interface Window {
    /** The kernel this page runs; scripts and tests drive it (see README). */
    kernel: KernelApi;
    /** Devices (other browsers through js-libp2p): on/off, pairing, links (see README). */
    webmkDevices: DevicesHandle;
  }
}

async function start(): Promise<void> {
  const b = await boot();
  const kernel = createKernel();
  // Set before anything renders: page scripts and tests wait for it.
  window.kernel = kernel;
  window.webmkDevices = createDevicesHandle();
  // Every device link is a node for remote mode (a spawn from one asks the person first).
  followDevices(window.webmkDevices, (link) => kernel.attachLink(link));
  // Devices left on come back on (libp2p loads only then), so paired devices reconnect.
  void window.webmkDevices.resume();
  const desktop = mountShell(document.body, kernel, b);
  desktop.devices = window.webmkDevices;
  // In the kernel, not the shell: a page without the shell gets the same start-up. What failed is
  // in the result (the shell shows it); a registry that cannot open is reported through `ready`.
  kernel.autostart().catch(() => {});
  // Files the OS opens with the installed app are installed like dropped ones.
  consumeLaunchQueue((f) => desktop.installFiles([f]));
  // `?install=<url>` (a link, a web+webmk: link, a shared URL): installed once, as if typed into
  // the shell's URL field; the address loses it so a reload does not install it again.
  const link = installRequest(location.href);
  if (link !== undefined) {
    history.replaceState(history.state, '', link.rest);
    kernel.ready.then(() => desktop.installUrl(link.url)).catch(() => {});
  }
}

start().catch((e: unknown) => {
  // Without a kernel there is no shell to report into: say so plainly on the page.
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.style.cssText = 'margin:1rem;font:15px/1.4 system-ui,sans-serif';
  p.textContent = `webmk could not start: ${e instanceof Error ? e.message : String(e)}`;
  document.body.append(p);
  throw e;
});
