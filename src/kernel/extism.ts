/**
 * The kernel's side of an Extism plugin's manifest (ADR 0026): what a service instance is started
 * with (config, its memory limit written into its bytes and given to its Extism host, the modules
 * it links by name), and its `http_request`s, sent with `fetch` only to the hosts it was granted.
 */
import type { CallTable, Caller } from '../capability';
import { KernelError, hostAllowed, serviceSettings, type ModuleInfo, type ServiceSettings } from '../common';
import { fromBase64, toBase64, type ExtismStart } from '../ipc';
import { capMemory } from '../registry';
import type { Ready } from './lifecycle';
import type { Runnable } from './runnable';

/** What starting a plugin needs of the module catalog. */
export interface PluginCatalog {
  lookup(name: string): Promise<ModuleInfo | undefined>;
  runnable(info: ModuleInfo): Promise<Runnable>;
}

/** Bytes of an HTTP response a plugin may get when its manifest says nothing (it crosses the sync-call buffer as base64). */
export const MAX_HTTP_RESPONSE_BYTES = 128 * 1024;
/** How long an `http_request` may take, ms (the call's own deadline may end it sooner). */
const HTTP_TIMEOUT_MS = 30_000;

/** Compiled modules under a plugin's own memory cap, per module compiled under the kernel's. */
const capped = new WeakMap<WebAssembly.Module, Map<number, Promise<Runnable>>>();

/**
 * The service start of `ready` with its manifest's Extism fields applied. Rejects with
 * `kernel/unknown-module` (a linked module that is not installed, or not wasm) and
 * `service/memory-exceeded` (a module whose initial memory is over `memory.max_pages`).
 */
export async function pluginReady(ready: Ready, catalog: PluginCatalog): Promise<Ready> {
  const { info } = ready;
  const parsed = serviceSettings(info.manifest);
  const settings: ServiceSettings = typeof parsed === 'string' ? { config: {}, allowedHosts: [], memory: {}, wasm: [] } : parsed;
  const { maxPages, maxVarBytes } = settings.memory;
  const runnable = await withCap(ready.runnable, maxPages, info.name);
  const linked: NonNullable<ExtismStart['linked']> = [];
  const libs = new Map<string, ModuleInfo>();
  for (const w of settings.wasm) {
    const lib = await catalog.lookup(w.module);
    if (lib === undefined || lib.kind !== 'wasm') {
      throw new KernelError('kernel/unknown-module', `"${info.name}" links "${w.module}" as "${w.name}", and no wasm module has that name`, {
        name: w.module,
        linkedAs: w.name,
        by: info.name,
      });
    }
    libs.set(w.name, lib);
    const r = await withCap(await catalog.runnable(lib), maxPages, lib.name);
    if (r !== 'min-exceeds' && r.kind === 'wasm') linked.push({ name: w.name, module: r.module, bytes: r.bytes });
  }
  // Checked here, before a start: an instance that cannot link would only fail again at each restart.
  for (const m of [info, ...libs.values()]) {
    for (const imp of m.imports) {
      const lib = imp.module === undefined ? undefined : libs.get(imp.module);
      if (lib !== undefined && !lib.exports.some((e) => e.name === imp.name && e.kind === imp.kind)) {
        throw new KernelError('service/error', `"${m.name}" imports ${imp.kind} "${imp.name}" from "${imp.module}" (module "${lib.name}"), which does not export it`, {
          name: m.name,
          linkedAs: imp.module,
          missing: imp.name,
        });
      }
    }
  }
  const extism: ExtismStart = {
    ...(maxPages !== undefined ? { maxBytes: maxPages * 65536 } : {}),
    ...(maxVarBytes !== undefined ? { maxVarBytes } : {}),
    ...(linked.length > 0 ? { linked } : {}),
  };
  return { ...ready, runnable, serve: { config: settings.config, extism } };
}

/** `r` compiled with its memories' maximum lowered to `maxPages` (cached); refused when its minimum is over it. */
async function withCap(r: Runnable, maxPages: number | undefined, name: string): Promise<Runnable> {
  if (maxPages === undefined || r === 'min-exceeds' || r.kind !== 'wasm' || r.maxPages <= maxPages) return r;
  let byPages = capped.get(r.module);
  if (byPages === undefined) capped.set(r.module, (byPages = new Map()));
  let p = byPages.get(maxPages);
  if (p === undefined) {
    const c = capMemory(r.bytes, maxPages);
    p =
      c === 'min-exceeds'
        ? Promise.resolve<Runnable>('min-exceeds')
        : WebAssembly.compile(c.bytes as Uint8Array<ArrayBuffer>).then((module): Runnable => ({ kind: 'wasm', module, bytes: c.bytes, maxPages: c.maxPages }));
    byPages.set(maxPages, p);
  }
  const out = await p;
  if (out === 'min-exceeds') {
    throw new KernelError('service/memory-exceeded', `"${name}" starts with more memory than its manifest's memory.max_pages (${maxPages})`, { name, maxPages });
  }
  return out;
}

/**
 * Registers `extism.http`, a plugin's `http_request`: `{ req: <Extism's request JSON>, body?:
 * base64 }` answered `{ status, body: base64 }` once the response is read. Refused with
 * `service/host-not-allowed` (Extism's message) unless the URL's host matches a granted
 * `http:<pattern>`; `service/error` for a malformed request, a failed fetch, or a response over
 * the plugin's `memory.max_http_response_bytes` (at most 128 KiB).
 */
export function registerExtismCalls(calls: CallTable, lookup: (name: string) => Promise<ModuleInfo | undefined>, denied: (caller: Caller, permission: string) => void): void {
  calls.handle('extism.http', async (caller, args) => {
    const a = (typeof args === 'object' && args !== null ? args : {}) as { req?: unknown; body?: unknown };
    const req = parseRequest(a.req);
    const url = req.url;
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !hostAllowed(url.hostname, caller.grants.http ?? [])) {
      denied(caller, `http:${url.hostname}`);
      throw new KernelError('service/host-not-allowed', `HTTP request to "${url.href}" is not allowed (no allowed_hosts match "${url.hostname}")`, {
        url: url.href,
        host: url.hostname,
      });
    }
    const info = await lookup(caller.name);
    const s = info === undefined ? undefined : serviceSettings(info.manifest);
    const limit = Math.min(typeof s === 'object' ? (s.memory.maxHttpResponseBytes ?? MAX_HTTP_RESPONSE_BYTES) : MAX_HTTP_RESPONSE_BYTES, MAX_HTTP_RESPONSE_BYTES);
    const body = typeof a.body === 'string' && req.method !== 'GET' && req.method !== 'HEAD' ? fromBase64(a.body) : undefined;
    let res: Response;
    try {
      // No cookies, and no redirect: a redirect could lead to a host that was not allowed.
      res = await fetch(url, { method: req.method, headers: req.headers, credentials: 'omit', redirect: 'error', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), ...(body !== undefined ? { body: body as Uint8Array<ArrayBuffer> } : {}) });
    } catch (e) {
      throw new KernelError('service/error', `HTTP request to "${url.href}" failed: ${e instanceof Error ? e.message : String(e)}`, { url: url.href });
    }
    const bytes = await readLimited(res, limit, url.href);
    return { value: { status: res.status, body: toBase64(bytes) } };
  });
}

/** Extism's request JSON: `{ url, method?, headers? }`. */
function parseRequest(req: unknown): { url: URL; method: string; headers: Record<string, string> } {
  const bad = (why: string): never => {
    throw new KernelError('service/error', `http_request: ${why}`);
  };
  let r: unknown;
  try {
    r = JSON.parse(typeof req === 'string' ? req : '');
  } catch {
    return bad('the request is not JSON');
  }
  if (typeof r !== 'object' || r === null) return bad('the request is not an object');
  const { url, method, headers } = r as Record<string, unknown>;
  if (typeof url !== 'string' || !URL.canParse(url)) return bad('the request has no valid "url"');
  if (method !== undefined && (typeof method !== 'string' || !/^[A-Za-z]{1,16}$/.test(method))) return bad('"method" must be an HTTP method');
  const h: Record<string, string> = {};
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return bad('"headers" must be an object of strings');
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof v !== 'string') return bad(`header "${k}" must be a string`);
      h[k] = v;
    }
  }
  return { url: new URL(url), method: (method ?? 'GET').toUpperCase(), headers: h };
}

/** The response body, refused past `limit` bytes without reading on. */
async function readLimited(res: Response, limit: number, url: string): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > limit) {
      void reader.cancel();
      throw new KernelError('service/error', `the response from "${url}" is over the plugin's ${limit} bytes (memory.max_http_response_bytes)`, { url, limit });
    }
    parts.push(value);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
