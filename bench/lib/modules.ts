/** The example modules the bench runs, and kernels set up with them. */
import { createKernel, type Kernel, type Process } from '../../src/kernel';

const bytesCache = new Map<string, Promise<Uint8Array>>();
const moduleCache = new Map<string, Promise<WebAssembly.Module>>();

/** The bytes of `path` under the bench server's root, fetched once. */
function served(path: string): Promise<Uint8Array> {
  let p = bytesCache.get(path);
  if (p === undefined) {
    p = fetch(`./${path}`).then(async (r) => {
      if (!r.ok) throw new Error(`fetching ${path}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    });
    bytesCache.set(path, p);
  }
  return p;
}

/** The bytes of a built example module (served from public/modules). */
export function wasmBytes(name: string): Promise<Uint8Array> {
  return served(`modules/${name}.wasm`);
}

/** The bytes of a test fixture module (served from tests/fixtures). */
export function fixtureBytes(name: string): Promise<Uint8Array> {
  return served(`fixtures/${name}.wasm`);
}

/** The module compiled once, for the raw baselines. */
export function wasmModule(name: string): Promise<WebAssembly.Module> {
  let p = moduleCache.get(name);
  if (p === undefined) {
    p = wasmBytes(name).then((b) => WebAssembly.compile(b as Uint8Array<ArrayBuffer>));
    moduleCache.set(name, p);
  }
  return p;
}

let kernels = 0;

/**
 * A fresh kernel with its own IndexedDB database and its own worker pool, with `installs`
 * installed: each entry is `[installed name, example module]`.
 */
export async function benchKernel(tag: string, installs: Array<[string, string]>): Promise<Kernel> {
  const kernel = createKernel({ dbName: `bench-${tag}-${Date.now()}-${kernels++}` });
  await kernel.ready;
  for (const [name, example] of installs) await kernel.install(await wasmBytes(example), { name });
  return kernel;
}

/** Reads a stream to its end; returns the byte count, the number of reads and, if asked, the chunks. */
export async function drain(s: ReadableStream<Uint8Array>, keep = false): Promise<{ bytes: number; reads: number; chunks: Uint8Array[] }> {
  const reader = s.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let reads = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes, reads, chunks };
    bytes += value.length;
    reads++;
    if (keep) chunks.push(value);
  }
}

/** Reads a process's stdout as text to the end and waits for its exit code. */
export async function finish(p: Process): Promise<{ stdout: string; code: number }> {
  const [out, code] = await Promise.all([drain(p.stdout, true), p.exit]);
  const dec = new TextDecoder();
  return { stdout: out.chunks.map((c) => dec.decode(c, { stream: true })).join('') + dec.decode(), code };
}

/** Why a process ended, for error messages. */
export function why(kernel: Kernel, pid: number): string {
  const info = kernel.processes().find((p) => p.pid === pid);
  return info === undefined ? `pid ${pid} is gone` : `${info.name}: ${info.state}, ${info.reason ?? '?'} ${info.exitCode ?? ''} ${info.message ?? ''}`;
}
