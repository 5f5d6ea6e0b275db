/**
 * Transforms (lunatic's): trusted page code that rewrites a module's bytes before it is stored
 * and compiled, such as an instrumenting pass. They run at install, in the order they were added,
 * on a lone wasm module (not on a package's modules: a package's bytes are what its signature and
 * manifest describe). Each output must be valid WebAssembly; an invalid output (or a transform
 * that throws) is refused with `transform/invalid-output` (`transform/failed`), logged, and the
 * bytes before it are kept: the install goes on. Outputs are cached by the input's SHA-256, so
 * the same bytes installed again are not transformed again.
 */
import { KernelError } from '../common';
import { countMallocTransform } from '../hosts';

/** A transform: the bytes in, the rewritten bytes out (the same bytes: no change). */
export type TransformFunction = (bytes: Uint8Array, module: { name: string | undefined }) => Uint8Array | Promise<Uint8Array>;

/** A registered transform and what it did. */
export interface TransformInfo {
  name: string;
  /** Installs it rewrote. */
  applied: number;
  /** Outputs refused (the bytes before it were kept). */
  refused: number;
}

/** One refusal, as `kernel.transforms.refusals()` reports it. */
export interface TransformRefusal {
  transform: string;
  module: string | undefined;
  code: 'transform/invalid-output' | 'transform/failed';
  message: string;
  at: number;
}

/** `kernel.transforms`. */
export interface TransformsApi {
  /** Adds (or replaces) transform `name`; it applies from the next install. Throws `kernel/bad-argument`. */
  add(name: string, fn: TransformFunction): void;
  /** Removes transform `name`; true when it was there. */
  remove(name: string): boolean;
  /** The transforms in the order they run, with their counts. */
  list(): TransformInfo[];
  /** The most recent refusals (at most 50), oldest first. */
  refusals(): TransformRefusal[];
  /**
   * A ready transform (lunatic's heap profiler): counts the module's calls to its malloc (found
   * by export or name) and the bytes asked for, and writes `malloc: N calls, M bytes` to stderr
   * when the program ends. Add it with `add('count-malloc', kernel.transforms.countMalloc)`. A
   * module with no malloc to find is refused (`transform/failed`, the reason in the refusal).
   */
  readonly countMalloc: TransformFunction;
}

const KEPT = 50;
const CACHED = 32;

interface Entry extends TransformInfo {
  fn: TransformFunction;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice()));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The registered transforms, their cache and their refusals. */
export class Transforms implements TransformsApi {
  private readonly entries: Entry[] = [];
  private readonly cache = new Map<string, Uint8Array>();
  private readonly refused: TransformRefusal[] = [];
  readonly countMalloc: TransformFunction = (bytes) => countMallocTransform(bytes);

  /** `changed` runs after each change to the list or its counts. */
  constructor(private readonly changed: () => void) {}

  add(name: string, fn: TransformFunction): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw new KernelError('kernel/bad-argument', 'a transform is named by 1..64 characters');
    if (typeof fn !== 'function') throw new KernelError('kernel/bad-argument', 'a transform is a function of bytes');
    const at = this.entries.findIndex((e) => e.name === name);
    const entry: Entry = { name, fn, applied: 0, refused: 0 };
    if (at >= 0) this.entries[at] = entry;
    else this.entries.push(entry);
    this.cache.clear();
    this.changed();
  }

  remove(name: string): boolean {
    const at = this.entries.findIndex((e) => e.name === name);
    if (at < 0) return false;
    this.entries.splice(at, 1);
    this.cache.clear();
    this.changed();
    return true;
  }

  list(): TransformInfo[] {
    return this.entries.map(({ name, applied, refused }) => ({ name, applied, refused }));
  }

  refusals(): TransformRefusal[] {
    return this.refused.map((r) => ({ ...r }));
  }

  /** The bytes after every transform, each output checked; the input as it is when there are none. */
  async apply(bytes: Uint8Array, module: string | undefined): Promise<Uint8Array> {
    if (this.entries.length === 0) return bytes;
    const key = await sha256(bytes);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    let current = bytes;
    for (const e of [...this.entries]) {
      let out: unknown;
      try {
        out = await e.fn(current.slice(), { name: module });
      } catch (err) {
        this.refuse(e, module, 'transform/failed', `transform "${e.name}" threw: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (!(out instanceof Uint8Array) || !WebAssembly.validate(out.slice())) {
        this.refuse(e, module, 'transform/invalid-output', `transform "${e.name}" gave ${out instanceof Uint8Array ? 'bytes that are not valid WebAssembly' : 'no bytes'}; the bytes before it were kept`);
        continue;
      }
      e.applied++;
      current = out.slice();
    }
    if (this.cache.size >= CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, current);
    this.changed();
    return current;
  }

  private refuse(e: Entry, module: string | undefined, code: TransformRefusal['code'], message: string): void {
    e.refused++;
    this.refused.push({ transform: e.name, module, code, message, at: Date.now() });
    if (this.refused.length > KEPT) this.refused.shift();
  }
}
