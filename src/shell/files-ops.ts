/** What the Files… dialog does to entries of a directory handle besides listing: names checked, renames. */

/** Why `name` cannot be an entry's new name in `dir` (empty when it can). */
export async function badName(dir: FileSystemDirectoryHandle, name: string): Promise<string> {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    return 'A name is not empty, not "." or "..", and has no "/" or "\\".';
  }
  for await (const key of dir.keys()) if (key === name) return `"${name}" is already in this folder.`;
  return '';
}

/** A handle's `move`, where the browser has it (Chromium's OPFS and picked folders). */
type Movable = FileSystemHandle & { move?: (name: string) => Promise<void> };

/**
 * Renames entry `from` of `dir` to `to`: the browser's own move where it has one, else a copy
 * (a directory with everything in it) made whole before the old entry is removed.
 */
export async function renameEntry(dir: FileSystemDirectoryHandle, from: string, kind: 'file' | 'directory', to: string): Promise<void> {
  const handle: Movable = kind === 'file' ? await dir.getFileHandle(from) : await dir.getDirectoryHandle(from);
  if (typeof handle.move === 'function') {
    try {
      await handle.move(to);
      return;
    } catch (e) {
      // Not supported for this kind of entry here: copy instead. Anything else is a real failure.
      if (!(e instanceof DOMException && (e.name === 'NotSupportedError' || e.name === 'InvalidModificationError'))) throw e;
    }
  }
  await copyInto(dir, handle, to);
  await dir.removeEntry(from, { recursive: true });
}

async function copyInto(dir: FileSystemDirectoryHandle, from: FileSystemHandle, name: string): Promise<void> {
  if (from.kind === 'file') {
    const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
    await w.write(await (from as FileSystemFileHandle).getFile());
    await w.close();
    return;
  }
  const made = await dir.getDirectoryHandle(name, { create: true });
  for await (const child of (from as FileSystemDirectoryHandle).values()) await copyInto(made, child, child.name);
}
