/**
 * "Mount a folder…": the person picks a folder with the File System Access API and grants the
 * page readwrite on it; the shell then mounts it at `/data` when it runs the module (ADR 0024).
 */

/** The picker and the permission calls, where the browser has them (Chromium; not Firefox or Safari). */
type Picker = (opts: { mode: 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;
type Asking = FileSystemDirectoryHandle & {
  requestPermission?: (d: { mode: 'readwrite' }) => Promise<string>;
  queryPermission?: (d: { mode: 'readwrite' }) => Promise<string>;
};

/** Where a picked folder appears to the module. */
export const FOLDER_MOUNT = '/data';

/**
 * Asks the person for a folder and for readwrite on it. Undefined when they cancelled; throws
 * (with a sentence for a toast) where the browser cannot give a page a folder, or they refused.
 */
export async function pickFolder(): Promise<FileSystemDirectoryHandle | undefined> {
  const pick = (globalThis as unknown as { showDirectoryPicker?: Picker }).showDirectoryPicker;
  if (typeof pick !== 'function') throw new Error('this browser cannot give a page a folder (it has no File System Access API); use the module\'s Files… view instead');
  let handle: Asking;
  try {
    handle = await pick({ mode: 'readwrite', id: 'webmk-mount' });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') return undefined;
    throw e;
  }
  await allowChanges(handle);
  return handle;
}

/**
 * Makes sure the page may write `handle`: a folder remembered from an earlier visit is asked
 * for again (the browser prompts, within the click that runs the module). Throws, with a
 * sentence for a toast, when the person or the browser says no.
 */
export async function allowChanges(handle: FileSystemDirectoryHandle): Promise<void> {
  const h = handle as Asking;
  const now = (await h.queryPermission?.({ mode: 'readwrite' })) ?? 'granted';
  const state = now === 'granted' ? now : ((await h.requestPermission?.({ mode: 'readwrite' })) ?? 'granted');
  if (state !== 'granted') throw new Error(`the browser did not allow changes to "${handle.name}" (${state})`);
}
