/**
 * Modules ready to run: compiled once per content hash with the kernel's memory cap written into
 * the binary (see registry/wasm-binary.ts), so a spawn posts a compiled module, never bytes.
 */
import { capMemory } from '../registry';

/**
 * A module compiled under the memory cap, its bytes with the cap written in (for a host in
 * another agent cluster, which cannot be given a compiled module), and the cap in pages; or a
 * refusal.
 */
export type Runnable = { kind: 'wasm'; module: WebAssembly.Module; bytes: Uint8Array; maxPages: number } | { kind: 'js'; script: string } | 'min-exceeds';

export class RunnableCache {
  private readonly cache = new Map<string, Promise<Runnable>>();

  constructor(private readonly maxPages: number) {}

  /** Caches what `install` compiled already (the same module when no cap had to be added); none for a JS module. */
  remember(sha256: string, bytes: Uint8Array, validated: WebAssembly.Module | undefined): void {
    if (validated === undefined) {
      this.cache.set(sha256, Promise.resolve({ kind: 'js', script: new TextDecoder().decode(bytes) }));
      return;
    }
    const r = this.prepare(bytes, validated);
    r.catch(() => this.cache.delete(sha256));
    this.cache.set(sha256, r);
  }

  /** The runnable form of the module with this hash, compiling its bytes on first use. */
  get(sha256: string, kind: 'wasm' | 'js', bytes: () => Promise<Uint8Array>): Promise<Runnable> {
    let r = this.cache.get(sha256);
    if (r === undefined) {
      r = bytes().then((b): Runnable | Promise<Runnable> => (kind === 'js' ? { kind: 'js', script: new TextDecoder().decode(b) } : this.prepare(b, null)));
      this.cache.set(sha256, r);
      r.catch(() => this.cache.delete(sha256));
    }
    return r;
  }

  /** Drops every module whose hash is not in `installed`. */
  keepOnly(installed: ReadonlySet<string>): void {
    for (const sha256 of [...this.cache.keys()]) if (!installed.has(sha256)) this.cache.delete(sha256);
  }

  /** Modules held compiled (or being compiled). */
  get size(): number {
    return this.cache.size;
  }

  private async prepare(bytes: Uint8Array, validated: WebAssembly.Module | null): Promise<Runnable> {
    const capped = capMemory(bytes, this.maxPages);
    if (capped === 'min-exceeds') return capped;
    const module = capped.bytes === bytes && validated !== null ? validated : await WebAssembly.compile(capped.bytes as Uint8Array<ArrayBuffer>);
    return { kind: 'wasm', module, bytes: capped.bytes, maxPages: capped.maxPages };
  }
}
