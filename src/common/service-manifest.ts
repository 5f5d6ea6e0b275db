/**
 * What a service module's manifest may say about how it is served (`"service": { ... }`): config
 * values its plugin reads with Extism's `config_get`, and the deadline of a call that gives none.
 */
import type { ModuleManifest } from './types';

/** A service's settings from its manifest. */
export interface ServiceSettings {
  /** Keys and values a plugin reads with `config_get`. */
  config: Record<string, string>;
  /** The deadline of a call that gives none, ms. */
  timeoutMs?: number;
}

/** The longest deadline a call may have, ms. */
export const MAX_CALL_TIMEOUT_MS = 600_000;
/** Bytes of config keys and values in all. */
const MAX_CONFIG_BYTES = 64 * 1024;

/** The manifest's `service` field, checked; a string says what is wrong with it. */
export function serviceSettings(manifest: ModuleManifest): ServiceSettings | string {
  const s = manifest.service;
  if (s === undefined) return { config: {} };
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return '"service" must be an object';
  const { config, timeoutMs } = s as Record<string, unknown>;
  const out: ServiceSettings = { config: {} };
  if (config !== undefined) {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) return '"service.config" must be an object of strings';
    let bytes = 0;
    for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
      if (typeof v !== 'string') return `"service.config.${k}" must be a string`;
      bytes += k.length + v.length;
      Object.defineProperty(out.config, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    if (bytes > MAX_CONFIG_BYTES) return `"service.config" is over ${MAX_CONFIG_BYTES} bytes`;
  }
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_CALL_TIMEOUT_MS) {
      return `"service.timeoutMs" must be a number of ms in (0, ${MAX_CALL_TIMEOUT_MS}]`;
    }
    out.timeoutMs = timeoutMs;
  }
  return out;
}
