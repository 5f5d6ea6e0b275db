/**
 * The calls through which a process's worker keeps its home (ADR 0018): `home.read`,
 * `home.write`, `home.mkdir`, `home.remove`, each on a path relative to the caller's own home,
 * and only for a process spawned with one. The worker blocks until the page has done the work.
 */
import type { CallTable, Caller } from '../capability';
import { KernelError } from '../common';
import { makeHomeDirectory, readHomeFile, removeHomeEntry, writeHomeFile } from '../registry';

/** Whether the process `pid` was given a home. */
export type HasHome = (pid: number) => boolean;

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

/** Registers the home calls on the call table; `noSpace` hears of every write refused for a full disk. */
export function registerHomeCalls(calls: CallTable, hasHome: HasHome, noSpace: (caller: Caller, path: string) => void = () => {}): void {
  const need = (caller: Caller): void => {
    if (!hasHome(caller.pid)) throw new KernelError('kernel/denied', `process ${caller.pid} has no home`);
  };
  calls.handle('home.read', async (caller, args) => {
    need(caller);
    const bytes = await readHomeFile(caller.name, pathOf(args));
    return { value: bytes === null ? null : base64(bytes) };
  });
  calls.handle('home.write', async (caller, args) => {
    need(caller);
    const bytes = (args as { bytes?: unknown } | null)?.bytes;
    if (!(bytes instanceof Uint8Array)) throw new KernelError('kernel/bad-argument', 'home.write takes bytes');
    const path = pathOf(args);
    try {
      await writeHomeFile(caller.name, path, bytes);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'kernel/no-space') noSpace(caller, path);
      throw e;
    }
    return { value: null };
  });
  calls.handle('home.mkdir', async (caller, args) => {
    need(caller);
    await makeHomeDirectory(caller.name, pathOf(args));
    return { value: null };
  });
  calls.handle('home.remove', async (caller, args) => {
    need(caller);
    await removeHomeEntry(caller.name, pathOf(args));
    return { value: null };
  });
}
