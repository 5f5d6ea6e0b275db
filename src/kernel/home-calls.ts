/**
 * The calls through which a process's worker keeps its home and the folders mounted for it
 * (ADR 0018, ADR 0024): `home.read`, `home.write`, `home.mkdir`, `home.remove`, each on a path
 * relative to one of the caller's own mounts (`mount`: its guest directory; none: its home), and
 * only for a process spawned with it. The worker blocks until the page has done the work. Since
 * ADR 0025 a worker reaches its home through the file server instead; the calls serve picked
 * folders (and still answer for a home, which no worker asks of them now).
 */
import type { CallTable, Caller } from '../capability';
import { KernelError } from '../common';
import { makeHomeDirectory, readHomeFile, removeHomeEntry, writeHomeFile, type HomeRoot } from '../registry';

/** The root behind guest directory `mount` of process `pid` (undefined `mount`: its home), if it has it. */
export type MountOf = (pid: number, mount: string | undefined) => HomeRoot | undefined;

function pathOf(args: unknown): string {
  const path = (args as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || path === '') throw new KernelError('kernel/bad-argument', 'a home call takes a path');
  return path;
}

/** Base64, for a file's bytes in a JSON answer. */
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * Registers the home calls on the call table; `noSpace` hears of every write refused for a full
 * disk (with the guest directory of a picked folder).
 */
export function registerHomeCalls(calls: CallTable, mountOf: MountOf, noSpace: (caller: Caller, path: string, mount?: string) => void = () => {}): void {
  const need = (caller: Caller, args: unknown): { root: HomeRoot; mount: string | undefined } => {
    const m = (args as { mount?: unknown } | null)?.mount;
    if (m !== undefined && typeof m !== 'string') throw new KernelError('kernel/bad-argument', 'a mount is a guest directory');
    const root = mountOf(caller.pid, m);
    if (root === undefined) throw new KernelError('kernel/denied', m === undefined ? `process ${caller.pid} has no home` : `process ${caller.pid} has nothing mounted at ${m}`);
    return { root, mount: m };
  };
  calls.handle('home.read', async (caller, args) => {
    const { root } = need(caller, args);
    const bytes = await readHomeFile(root, pathOf(args));
    return { value: bytes === null ? null : base64(bytes) };
  });
  calls.handle('home.write', async (caller, args) => {
    const { root, mount } = need(caller, args);
    const bytes = (args as { bytes?: unknown } | null)?.bytes;
    if (!(bytes instanceof Uint8Array)) throw new KernelError('kernel/bad-argument', 'home.write takes bytes');
    const path = pathOf(args);
    try {
      await writeHomeFile(root, path, bytes);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'kernel/no-space') noSpace(caller, path, typeof root === 'string' ? undefined : mount);
      throw e;
    }
    return { value: null };
  });
  calls.handle('home.mkdir', async (caller, args) => {
    const { root } = need(caller, args);
    await makeHomeDirectory(root, pathOf(args));
    return { value: null };
  });
  calls.handle('home.remove', async (caller, args) => {
    const { root } = need(caller, args);
    await removeHomeEntry(root, pathOf(args));
    return { value: null };
  });
}
