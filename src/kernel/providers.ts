/**
 * Import providers (lunatic's): a module imports functions by a namespace, and the kernel links
 * each call. A namespace the page provided (`kernel.provide`) runs the page's function; any other
 * is the name of an installed service module, and the call is a service call into it (the
 * blocking cross-worker path of `webmk_call`, with its deadline and loop refusal). Either way the
 * caller needs `call:<namespace>`. The ABI is in docs/decisions/0022-kv-providers-transforms.md.
 */
import type { CallTable, Caller } from '../capability';
import { KernelError, isModuleName } from '../common';
import { toBase64, unthrottledTimer, type DirectGrant } from '../ipc';
import type { HostFunction } from './current-plugin';
import { DEFAULT_CALL_TIMEOUT_MS, type Services } from './services';

/** What a provided function returns: output bytes (text is UTF-8), or a number the import returns. */
export type ProvidedResult = Uint8Array | string | number;

/** A function the page provides: the caller's input bytes in, bytes or a number out. */
export type ProvidedFunction = (input: Uint8Array, caller: { pid: number; name: string }) => ProvidedResult | Promise<ProvidedResult>;

/** Extism's namespace of host functions (ADR 0035): provided by the page only, with Extism's calling convention. */
export const HOST_FUNCTIONS = 'extism:host/user';

/** Namespaces the kernel answers itself; a page may not take them. */
const RESERVED = new Set(['webmk', 'env', 'wasi', 'wasi_snapshot_preview1', 'wasi_unstable']);

const enc = new TextEncoder();

/** The namespaces the page provides. */
export class Providers {
  private readonly spaces = new Map<string, Record<string, ProvidedFunction>>();

  constructor(
    private readonly services: Services,
    private readonly denied: (caller: Caller, permission: string) => void,
  ) {}

  /**
   * Provides `functions` under `namespace` (replacing what was there); returns the function that
   * withdraws them. Throws `kernel/bad-argument` for a reserved or malformed namespace or a
   * value that is not a function.
   */
  provide(namespace: string, functions: Record<string, ProvidedFunction> | Record<string, HostFunction>): () => void {
    if (namespace === HOST_FUNCTIONS) return this.provideHost(functions as Record<string, HostFunction>);
    if (typeof namespace !== 'string' || !isModuleName(namespace) || RESERVED.has(namespace)) {
      throw new KernelError('kernel/bad-argument', `"${String(namespace)}" cannot be provided (a module-like name, not ${[...RESERVED].join(', ')})`);
    }
    if (typeof functions !== 'object' || functions === null) throw new KernelError('kernel/bad-argument', 'provide takes an object of functions');
    const own: Record<string, ProvidedFunction> = Object.create(null) as Record<string, ProvidedFunction>;
    for (const [name, f] of Object.entries(functions)) {
      if (typeof f !== 'function') throw new KernelError('kernel/bad-argument', `"${name}" is not a function`);
      own[name] = f as ProvidedFunction;
    }
    this.spaces.set(namespace, own);
    // A namespace the page takes over from a module is no longer that module's: direct paths go.
    this.services.direct.invalidate();
    return () => {
      if (this.spaces.get(namespace) === own) this.spaces.delete(namespace);
    };
  }

  /** The provided namespaces and their functions. */
  list(): Array<{ namespace: string; functions: string[] }> {
    const host = this.host === undefined ? [] : [{ namespace: HOST_FUNCTIONS, functions: Object.keys(this.host) }];
    return [...[...this.spaces].map(([namespace, fns]) => ({ namespace, functions: Object.keys(fns) })), ...host];
  }

  /** The host function `name` the page provides, if it does. */
  hostFunction(name: string): HostFunction | undefined {
    return this.host?.[name];
  }

  private host: Record<string, HostFunction> | undefined;

  private provideHost(functions: Record<string, HostFunction>): () => void {
    if (typeof functions !== 'object' || functions === null) throw new KernelError('kernel/bad-argument', 'provide takes an object of functions');
    const own: Record<string, HostFunction> = Object.create(null) as Record<string, HostFunction>;
    for (const [name, f] of Object.entries(functions)) {
      if (typeof f !== 'function') throw new KernelError('kernel/bad-argument', `"${name}" is not a function`);
      own[name] = f;
    }
    this.host = own;
    return () => {
      if (this.host === own) this.host = undefined;
    };
  }

  /**
   * One linked call: `{ base64 }` output, or `{ number }`. A call into a service module may come
   * with a direct path for the next ones (`direct`, when the glue can take one: ADR 0027);
   * `until` is the deadline of the call the caller serves, if it serves one.
   */
  async call(caller: Caller, namespace: unknown, fn: unknown, input: unknown, direct = false, until?: number): Promise<{ base64: string; direct?: DirectGrant } | { number: number }> {
    if (typeof namespace !== 'string' || typeof fn !== 'string' || !(input instanceof Uint8Array)) {
      throw new KernelError('kernel/bad-argument', 'import.call takes a namespace, a function and bytes');
    }
    const space = this.spaces.get(namespace);
    if (space === undefined) {
      const base64 = toBase64(await this.services.call(caller, namespace, fn, input, undefined, until));
      const grant = direct ? this.services.direct.grant(caller, namespace) : undefined;
      return { base64, ...(grant !== undefined ? { direct: grant } : {}) };
    }
    if (!(caller.grants.call ?? []).includes(namespace)) {
      this.denied(caller, `call:${namespace}`);
      throw new KernelError('kernel/denied', `"${caller.name}" was not granted call:${namespace}`, { permission: `call:${namespace}` });
    }
    const f = space[fn];
    if (f === undefined) throw new KernelError('service/no-such-function', `the page provides no "${namespace}.${fn}"`, { namespace, fn });
    const timer = unthrottledTimer(DEFAULT_CALL_TIMEOUT_MS);
    try {
      const run = (async () => f(input, { pid: caller.pid, name: caller.name }))();
      const out = await Promise.race([run, timer.fired.then(() => undefined)]);
      if (out === undefined) throw new KernelError('kernel/timeout', `${namespace}.${fn} did not answer within ${DEFAULT_CALL_TIMEOUT_MS} ms`);
      if (typeof out === 'number') return { number: out | 0 };
      if (typeof out === 'string') return { base64: toBase64(enc.encode(out)) };
      if (out instanceof Uint8Array) return { base64: toBase64(out) };
      throw new KernelError('service/error', `${namespace}.${fn} returned neither bytes, text nor a number`);
    } catch (e) {
      if (e instanceof KernelError) throw e;
      throw new KernelError('service/error', `${namespace}.${fn} failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      timer.cancel();
    }
  }
}

/** Registers `import.call`, what a module's linked import asks. */
export function registerImportCalls(calls: CallTable, providers: Providers): void {
  calls.handle('import.call', async (caller, args) => {
    const a = (typeof args === 'object' && args !== null ? args : {}) as { namespace?: unknown; fn?: unknown; input?: unknown; direct?: unknown; until?: unknown };
    return { value: await providers.call(caller, a.namespace, a.fn, a.input, a.direct === true, typeof a.until === 'number' ? a.until : undefined) };
  });
}
