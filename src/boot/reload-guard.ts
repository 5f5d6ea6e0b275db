/**
 * The once-per-tab guard for the isolation reload. sessionStorage lives as long as the tab
 * (it survives reloads, not closing), so a page that is still not isolated after one reload
 * never reloads again and says why instead.
 */

const KEY = 'webmk:isolation-reload';

/** `taken`: reload now; `used`: this tab already reloaded once; `unavailable`: no storage. */
export type ReloadGuard = 'taken' | 'used' | 'unavailable';

/** Claims the tab's single isolation reload. */
export function takeReloadGuard(): ReloadGuard {
  try {
    if (sessionStorage.getItem(KEY) !== null) return 'used';
    sessionStorage.setItem(KEY, String(Date.now()));
    // Read back: some private modes accept writes and keep nothing.
    return sessionStorage.getItem(KEY) === null ? 'unavailable' : 'taken';
  } catch {
    return 'unavailable';
  }
}
