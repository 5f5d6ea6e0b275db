/**
 * Instance groups (ADR 0033): the service modules a process names (`inProcess`, from the spawn or
 * its manifest) are instantiated in its own worker, beside it, each an instance of its own; its
 * imports from them become direct calls (src/process/instance-group.ts). Decided here, at spawn:
 * a provider joins the group only when the process imports from it, was granted `call:<name>`,
 * and it is an installed service module that can start. Any other named provider is left out,
 * and its imports go through the kernel as without a group: it refuses them as it would
 * (`-EACCES`, logged; `-ENOENT`; `-EIO`).
 */
import { checkInProcess, type ModuleInfo } from '../common';
import type { GroupMember } from '../ipc';
import { pluginReady, type PluginCatalog } from './extism';
import type { Ready } from './lifecycle';

/** Modes whose host hands the compiled modules to the process's realm as they are. */
const GROUPED_MODES = new Set(['worker', 'inpage']);

/** The providers to instantiate beside the process `ready` starts, or undefined for none. */
export async function instanceGroup(ready: Ready, catalog: PluginCatalog): Promise<GroupMember[] | undefined> {
  const { info, o } = ready;
  if (info.kind !== 'wasm' || !GROUPED_MODES.has(o.mode)) return undefined;
  const names = o.inProcess ?? fromManifest(info);
  const imported = new Set(info.imports.map((i) => i.module));
  const granted = info.grants.call ?? [];
  const group: GroupMember[] = [];
  for (const name of names) {
    if (!imported.has(name) || !granted.includes(name) || name === info.name) continue;
    const member = await provider(name, ready, catalog);
    if (member !== undefined) group.push(member);
  }
  return group.length > 0 ? group : undefined;
}

/** The manifest's `inProcess` (install refused a malformed one; one stored before is ignored). */
function fromManifest(info: ModuleInfo): string[] {
  const x = info.manifest.inProcess;
  const names = x === undefined ? [] : checkInProcess(x, 'inProcess');
  return typeof names === 'string' ? [] : names;
}

/** Service module `name` as its service instance would start (memory cap, config, linked modules), or undefined. */
async function provider(name: string, ready: Ready, catalog: PluginCatalog): Promise<GroupMember | undefined> {
  const lib = await catalog.lookup(name);
  if (lib === undefined || lib.kind !== 'wasm' || lib.command) return undefined;
  try {
    const r = await pluginReady({ info: lib, o: ready.o, runnable: await catalog.runnable(lib) }, catalog);
    if (r.runnable === 'min-exceeds' || r.runnable.kind !== 'wasm') return undefined;
    return {
      name,
      module: r.runnable.module,
      config: r.serve?.config ?? {},
      ...(r.serve?.extism !== undefined ? { extism: r.serve.extism } : {}),
    };
  } catch {
    // It cannot start (a linked module missing, its memory over its cap): its service instance
    // would fail the same way, and the kernel's path reports it per call.
    return undefined;
  }
}
