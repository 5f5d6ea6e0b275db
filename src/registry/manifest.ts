/** Manifests and what analysis makes of a module, for both kinds (WebAssembly and JS). */
import { KernelError, checkInProcess, manifestConfig, serviceSettings, type ModuleInfo, type ModuleManifest } from '../common';

/** A module that passed validation, not yet stored. */
export interface Analysed {
  /** The compiled module (absent for a JS module). */
  module?: WebAssembly.Module;
  info: Omit<ModuleInfo, 'name' | 'installedAt' | 'source' | 'sha256' | 'grants' | 'config' | 'package'>;
  manifest: ModuleManifest;
}

/** A manifest's JSON text, checked: an object whose known fields have the right shapes. */
export function parseManifest(text: string, where: string): ModuleManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new KernelError('registry/invalid-manifest', `${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KernelError('registry/invalid-manifest', `${where} must hold a JSON object`);
  }
  const m = parsed as Record<string, unknown>;
  for (const key of ['name', 'version', 'description'] as const) {
    if (key in m && typeof m[key] !== 'string') {
      throw new KernelError('registry/invalid-manifest', `manifest field "${key}" must be a string`);
    }
  }
  // How it asks to be run (restart, watchdogMs, mode, autostart, startOrder): refused whole if malformed.
  const config = manifestConfig(m);
  if (typeof config === 'string') throw new KernelError('registry/invalid-manifest', `manifest: ${config}`);
  // How it is served (config values, a default deadline).
  const service = serviceSettings(m);
  if (typeof service === 'string') throw new KernelError('registry/invalid-manifest', `manifest: ${service}`);
  // Which providers it links in its own worker (ADR 0033).
  const inProcess = m.inProcess === undefined ? [] : checkInProcess(m.inProcess, '"inProcess"');
  if (typeof inProcess === 'string') throw new KernelError('registry/invalid-manifest', `manifest: ${inProcess}`);
  // Plain data only: a copy without prototype tricks.
  return JSON.parse(JSON.stringify(m)) as ModuleManifest;
}

