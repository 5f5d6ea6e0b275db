/**
 * Where each setting of a process comes from: the spawn's own options, else the module's stored
 * configuration (`kernel.configure`), else its manifest, else the default. Also which modules
 * start at boot, and in what order. Pure: the kernel calls it with what the registry holds.
 */
import { KernelError, manifestConfig, type ModuleConfig, type ModuleInfo, type ModuleManifest } from '../common';
import type { AskedSpawn, CheckedSpawn } from './spawn-options';

const MANIFEST_FIELDS = ['mode', 'restart', 'watchdogMs', 'autostart', 'startOrder'] as const;

/**
 * The configuration a manifest gives, field by field: install refuses a malformed one, so only a
 * module stored before a field was checked can hold one, and that field is ignored, not the rest.
 */
export function manifestSettings(manifest: ModuleManifest): ModuleConfig {
  const out: ModuleConfig = {};
  for (const field of MANIFEST_FIELDS) {
    const one = manifestConfig({ [field]: manifest[field] });
    if (typeof one !== 'string') Object.assign(out, one);
  }
  return out;
}

/**
 * The settings a process starts with: each of `mode`, `args`, `restart` (a policy is one
 * setting, not merged field by field) and `watchdogMs` from the first of the spawn, the stored
 * configuration, the manifest that gives it. Rejects with `kernel/bad-argument` the `remote` mode
 * without a node, wherever it came from, and with `kernel/denied` `inpage` for a module
 * not granted `run:inpage`.
 */
export function effectiveSpawn(asked: AskedSpawn, info: ModuleInfo): CheckedSpawn {
  const config = info.config;
  const manifest = manifestSettings(info.manifest);
  // A JS module is not sandboxed by construction as WebAssembly is: it runs in the container.
  const mode = asked.mode ?? config.mode ?? manifest.mode ?? (info.kind === 'js' ? 'iframe' : 'worker');
  if (info.kind === 'js' && mode !== 'iframe') {
    if (mode !== 'worker' && mode !== 'inpage') {
      const from = asked.mode !== undefined ? 'spawn' : config.mode !== undefined ? 'configuration' : 'manifest';
      throw new KernelError('kernel/bad-argument', `a JS module runs in iframe, worker or inpage mode, not "${mode}" (from the ${from})`, { mode, from });
    }
    // Outside the container a JS module reaches what the app's origin can: only when granted.
    if (!(info.grants.run ?? []).includes(mode)) {
      throw new KernelError('kernel/denied', `"${info.name}" is a JS module: it runs in iframe mode unless granted run:${mode}`, { mode, permission: `run:${mode}` });
    }
  } else if (mode === 'inpage') {
    if (!(info.grants.run ?? []).includes('inpage')) {
      throw new KernelError('kernel/denied', `"${info.name}" may not run on the page: it was not granted run:inpage`, { mode, permission: 'run:inpage' });
    }
  } else if (mode === 'remote' && asked.node === undefined) {
    const from = asked.mode !== undefined ? 'spawn' : config.mode !== undefined ? 'configuration' : 'manifest';
    throw new KernelError('kernel/bad-argument', `remote mode (from the ${from}) needs a node: spawn(name, { mode: "remote", node })`, { mode, from });
  } else if (mode !== 'worker' && mode !== 'iframe' && mode !== 'remote') {
    const from = asked.mode !== undefined ? 'spawn' : config.mode !== undefined ? 'configuration' : 'manifest';
    throw new KernelError('kernel/bad-argument', `execution mode "${mode}" (from the ${from}) is not available yet; use "worker" or "iframe"`, { mode, from });
  }
  return {
    ...asked,
    mode,
    args: asked.args ?? config.args ?? [],
    restart: asked.restart ?? config.restart ?? manifest.restart,
    watchdogMs: asked.watchdogMs ?? config.watchdogMs ?? manifest.watchdogMs,
  };
}

/** A module to start at boot, and its place in the order. */
export interface AutostartEntry {
  name: string;
  startOrder: number;
}

/**
 * The modules whose configuration, else manifest, says `autostart: true`, in ascending
 * `startOrder` (default 0), ties by name in code-point order.
 */
export function autostartPlan(modules: readonly ModuleInfo[]): AutostartEntry[] {
  return modules
    .flatMap((m) => {
      const manifest = manifestSettings(m.manifest);
      if (!(m.config.autostart ?? manifest.autostart ?? false)) return [];
      return [{ name: m.name, startOrder: m.config.startOrder ?? manifest.startOrder ?? 0 }];
    })
    .sort((a, b) => a.startOrder - b.startOrder || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
