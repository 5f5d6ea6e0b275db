/**
 * What a service module's manifest may say about how it is served (`"service": { ... }`): config
 * values its plugin reads with Extism's `config_get`, the deadline of a call that gives none, and
 * the rest of an Extism manifest's fields (`allowed_hosts`, `memory`, `timeout_ms`, `wasm`), under
 * Extism's own names so that a manifest written for Extism reads the same here (ADR 0026).
 */
import { isModuleName } from './names';
import type { ModuleManifest } from './types';

/** A service's settings from its manifest. */
export interface ServiceSettings {
  /** Keys and values a plugin reads with `config_get`. */
  config: Record<string, string>;
  /** The deadline of a call that gives none, ms (`timeoutMs`, or Extism's `timeout_ms`). */
  timeoutMs?: number;
  /** Host patterns its `http_request` may reach (Extism's `allowed_hosts`), once granted as `http:<pattern>`. */
  allowedHosts: string[];
  /** Extism's `memory`: pages of its own memory and of its Extism memory blocks, response and var bytes. */
  memory: { maxPages?: number; maxHttpResponseBytes?: number; maxVarBytes?: number };
  /** Other installed modules linked into the plugin: imports from namespace `name` are `module`'s exports. */
  wasm: Array<{ name: string; module: string }>;
  /**
   * Extism's `allowed_paths` (ADR 0035): guest directories by what is mounted there, the plugin's
   * home (`"home"`) or an empty in-memory folder (`"tmp"`); a page has no host paths to give.
   */
  allowedPaths?: Record<string, 'home' | 'tmp'>;
}

/** The longest deadline a call may have, ms. */
export const MAX_CALL_TIMEOUT_MS = 600_000;
/** Bytes of config keys and values in all. */
const MAX_CONFIG_BYTES = 64 * 1024;
/** Modules a plugin may link. */
const MAX_LINKED = 16;

/** Whether `p` is an Extism host pattern: a host name where `*` stands for any characters and `?` for one. */
export function isHostPattern(p: string): boolean {
  return p.length > 0 && p.length <= 253 && /^[a-z0-9*?.-]+$/.test(p) && !p.includes('..');
}

/**
 * Whether host `host` (lower case) matches one of `patterns`, by Extism's glob rule (its runtime's
 * and its JS SDK's alike for host names): `*` is any run of characters, dots included; `?` is one.
 */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => new RegExp(`^${[...p].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.-]/, '\\$&'))).join('')}$`).test(host));
}

/** The manifest's `service` field, checked; a string says what is wrong with it. */
export function serviceSettings(manifest: ModuleManifest): ServiceSettings | string {
  const s = manifest.service;
  const out: ServiceSettings = { config: {}, allowedHosts: [], memory: {}, wasm: [] };
  if (s === undefined) return out;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return '"service" must be an object';
  const { config, timeoutMs, timeout_ms, allowed_hosts, allowed_paths, memory, wasm } = s as Record<string, unknown>;
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
  const timeout = timeoutMs ?? timeout_ms;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || !(timeout > 0) || timeout > MAX_CALL_TIMEOUT_MS) {
      return `"service.timeoutMs" (or "timeout_ms") must be a number of ms in (0, ${MAX_CALL_TIMEOUT_MS}]`;
    }
    out.timeoutMs = timeout;
  }
  if (allowed_hosts !== undefined) {
    if (!Array.isArray(allowed_hosts) || !allowed_hosts.every((h) => typeof h === 'string' && isHostPattern(h.toLowerCase()))) {
      return '"service.allowed_hosts" must be a list of host names, where * stands for any characters';
    }
    out.allowedHosts = [...new Set((allowed_hosts as string[]).map((h) => h.toLowerCase()))];
  }
  if (memory !== undefined) {
    const m = checkMemory(memory);
    if (typeof m === 'string') return m;
    out.memory = m;
  }
  if (wasm !== undefined) {
    const w = checkWasm(wasm);
    if (typeof w === 'string') return w;
    out.wasm = w;
  }
  if (allowed_paths !== undefined) {
    const p = checkPaths(allowed_paths);
    if (typeof p === 'string') return p;
    out.allowedPaths = p;
  }
  return out;
}

/** Extism's `allowed_paths`, `{ "<host>": "<guest directory>" }`, where the host side is `home` or `tmp`. */
function checkPaths(paths: unknown): NonNullable<ServiceSettings['allowedPaths']> | string {
  const bad = '"service.allowed_paths" must map "home" or "tmp" to a guest directory such as "/data" (a page has no host paths)';
  if (typeof paths !== 'object' || paths === null || Array.isArray(paths)) return bad;
  const out: NonNullable<ServiceSettings['allowedPaths']> = {};
  for (const [host, guest] of Object.entries(paths as Record<string, unknown>)) {
    if ((host !== 'home' && host !== 'tmp') || typeof guest !== 'string' || !/^\/[^\0]{0,254}$/.test(guest) || guest.split('/').includes('..')) return bad;
    Object.defineProperty(out, guest, { value: host, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function checkMemory(memory: unknown): ServiceSettings['memory'] | string {
  if (typeof memory !== 'object' || memory === null || Array.isArray(memory)) return '"service.memory" must be an object';
  const { max_pages, max_http_response_bytes, max_var_bytes } = memory as Record<string, unknown>;
  const out: ServiceSettings['memory'] = {};
  const count = (v: unknown, field: string, max: number): number | string | undefined =>
    v === undefined ? undefined : Number.isInteger(v) && (v as number) > 0 && (v as number) <= max ? (v as number) : `"service.memory.${field}" must be a whole number in [1, ${max}]`;
  for (const [field, v, max, key] of [
    ['max_pages', max_pages, 65536, 'maxPages'],
    ['max_http_response_bytes', max_http_response_bytes, 1 << 30, 'maxHttpResponseBytes'],
    ['max_var_bytes', max_var_bytes, 1 << 30, 'maxVarBytes'],
  ] as const) {
    const n = count(v, field, max);
    if (typeof n === 'string') return n;
    if (n !== undefined) out[key] = n;
  }
  return out;
}

function checkWasm(wasm: unknown): ServiceSettings['wasm'] | string {
  const bad = '"service.wasm" must be a list of { "name", "module"? } (module names; module defaults to name)';
  if (!Array.isArray(wasm) || wasm.length > MAX_LINKED) return bad;
  const out: ServiceSettings['wasm'] = [];
  for (const w of wasm as unknown[]) {
    if (typeof w !== 'object' || w === null) return bad;
    const { name, module } = w as Record<string, unknown>;
    if (typeof name !== 'string' || !isModuleName(name) || (module !== undefined && (typeof module !== 'string' || !isModuleName(module)))) return bad;
    if (out.some((o) => o.name === name)) return `"service.wasm" names "${name}" twice`;
    out.push({ name, module: (module as string | undefined) ?? name });
  }
  return out;
}
