/**
 * The preview1 `fd_*` and `path_*` imports over the in-memory file system (vfs.ts). A descriptor
 * that is not the file system's (the stdio streams) goes to `other`, the shim's import of the
 * same name. Guest memory is read and written in these imports, nowhere else in the file system.
 */
import { fdImports, type Other } from './vfs-fd-imports';
import { guestOf, type Imports, type Memory, type Table } from './vfs-guest';
import { pathImports } from './vfs-path-imports';

export type { Other };

/** Builds the imports; `table` is the process's descriptor table (shared with the shim). */
export function vfsImports(memory: Memory, table: Table, other: Other): Imports {
  const g = guestOf(memory, table);
  return { ...fdImports(g, other), ...pathImports(g) };
}
