/**
 * The kernel's side of Extism's host functions (`extism:host/user`, ADR 0035): a plugin's call of
 * an import the page provides arrives as `extism.user`, with the plugin's arguments and the memory
 * blocks they name. The caller needs `call:extism:host/user` (deny by default). The page's
 * function runs on a `CurrentPlugin` holding copies of those blocks; the answer carries its result,
 * typed as the plugin's import declares it (read from the module's bytes), and the blocks it
 * changed, made or freed.
 */
import type { CallTable, Caller } from '../capability';
import { KernelError, serviceSettings, type ModuleInfo } from '../common';
import { fromBase64, toBase64, unthrottledTimer } from '../ipc';
import { importResults, type NumType } from '../registry';
import { CurrentPlugin } from './current-plugin';
import type { PluginCatalog } from './extism';
import { HOST_FUNCTIONS, type Providers } from './providers';
import { DEFAULT_CALL_TIMEOUT_MS } from './services';

/** Result types of the host functions each module imports, by content hash. */
const typesByModule = new Map<string, Map<string, NumType[]> | null>();

/** Registers `extism.user`: `{ fn, args, blocks: [index, base64][], next }` answered `{ result?, type?, blocks, error? }`. */
export function registerHostFunctionCalls(calls: CallTable, providers: Providers, catalog: PluginCatalog, denied: (caller: Caller, permission: string) => void): void {
  calls.handle('extism.user', async (caller, raw) => {
    const a = parseRequest(raw);
    if (!(caller.grants.call ?? []).includes(HOST_FUNCTIONS)) {
      denied(caller, `call:${HOST_FUNCTIONS}`);
      throw new KernelError('kernel/denied', `"${caller.name}" was not granted call:${HOST_FUNCTIONS} (host function "${a.fn}")`, { permission: `call:${HOST_FUNCTIONS}`, hostFunction: a.fn });
    }
    const f = providers.hostFunction(a.fn);
    if (f === undefined) {
      throw new KernelError('service/error', `the page provides no host function ${HOST_FUNCTIONS}.${a.fn} (kernel.provide('${HOST_FUNCTIONS}', { ${a.fn} }))`, { hostFunction: a.fn });
    }
    const results = await resultTypes(caller.name, a.fn, catalog);
    const plugin = new CurrentPlugin(a.blocks, a.next, { pid: caller.pid, name: caller.name });
    const timer = unthrottledTimer(DEFAULT_CALL_TIMEOUT_MS);
    const late = Symbol('late');
    let out: unknown;
    try {
      out = await Promise.race([(async () => f(plugin, ...a.args))(), timer.fired.then(() => late)]);
    } catch (e) {
      throw new KernelError('service/error', `host function ${a.fn} failed: ${e instanceof Error ? e.message : String(e)}`, { hostFunction: a.fn });
    } finally {
      timer.cancel();
    }
    if (out === late) throw new KernelError('kernel/timeout', `host function ${a.fn} did not answer within ${DEFAULT_CALL_TIMEOUT_MS} ms`, { hostFunction: a.fn });
    const type = results?.[0] ?? (results === undefined ? guessType(out) : undefined);
    const changes = plugin.changes();
    return {
      value: {
        ...(type !== undefined ? { type, result: resultText(out, type, a.fn) } : {}),
        blocks: changes.blocks.map(([i, b]) => [i, b === null ? null : toBase64(b)]),
        ...(changes.error !== undefined ? { error: changes.error } : {}),
      },
    };
  });
}

function parseRequest(raw: unknown): { fn: string; args: Array<bigint | number>; blocks: Array<[number, Uint8Array]>; next: number } {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const bad = (): never => {
    throw new KernelError('kernel/bad-argument', 'extism.user takes { fn, args, blocks, next }');
  };
  if (typeof r.fn !== 'string' || !Array.isArray(r.args) || !Array.isArray(r.blocks) || typeof r.next !== 'number') return bad();
  const args = (r.args as unknown[]).map((x): bigint | number => {
    if (typeof x === 'number') return x;
    const t = (x as { i64?: unknown } | null)?.i64;
    return typeof t === 'string' && /^-?\d{1,20}$/.test(t) ? BigInt(t) : bad();
  });
  const blocks = (r.blocks as unknown[]).map((e): [number, Uint8Array] => (Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'string' ? [e[0], fromBase64(e[1])] : bad()));
  return { fn: r.fn, args, blocks, next: r.next };
}

/** The import's result types in the plugin (or a module it links), or undefined when they cannot be read. */
async function resultTypes(name: string, fn: string, catalog: PluginCatalog): Promise<NumType[] | undefined> {
  const info = await catalog.lookup(name);
  if (info === undefined) return undefined;
  const settings = serviceSettings(info.manifest);
  const mods: ModuleInfo[] = [info];
  for (const w of typeof settings === 'string' ? [] : settings.wasm) {
    const lib = await catalog.lookup(w.module);
    if (lib !== undefined) mods.push(lib);
  }
  for (const m of mods) {
    if (!m.imports.some((i) => i.module === HOST_FUNCTIONS && i.name === fn)) continue;
    let types = typesByModule.get(m.sha256);
    if (types === undefined) {
      const r = await catalog.runnable(m);
      types = r !== 'min-exceeds' && r.kind === 'wasm' ? importResults(r.bytes, HOST_FUNCTIONS) : null;
      typesByModule.set(m.sha256, types);
    }
    const t = types?.get(fn);
    if (t !== undefined) return t;
  }
  return undefined;
}

/** Without the import's type: a BigInt is an i64, a number an i32. */
function guessType(out: unknown): NumType | undefined {
  return typeof out === 'bigint' ? 'i64' : typeof out === 'number' ? 'i32' : undefined;
}

/** The function's result as the import's type wants it, as text; refused when it is not a number. */
function resultText(out: unknown, type: NumType, fn: string): string {
  if (typeof out !== 'bigint' && typeof out !== 'number') {
    throw new KernelError('service/error', `host function ${fn} returned ${out === undefined ? 'nothing' : typeof out}; its import returns an ${type}`, { hostFunction: fn });
  }
  if (type === 'i64') return BigInt.asIntN(64, typeof out === 'bigint' ? out : BigInt(Math.trunc(out))).toString();
  if (type === 'i32') return String(Number(BigInt.asIntN(32, typeof out === 'bigint' ? out : BigInt(Math.trunc(out)))));
  return String(Number(out));
}
