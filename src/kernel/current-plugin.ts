/**
 * What a host function (`extism:host/user`, ADR 0035) is given first: the calling plugin's Extism
 * memory blocks, as the Extism JS SDK's `CallContext` (and its older `CurrentPlugin`) offers
 * them. The plugin runs elsewhere (its worker waits): this holds copies of the blocks its
 * arguments name, and of those the function makes; what changed goes back with the answer.
 */

const SHIFT = 48n;

/**
 * A host function, as Extism's JS SDK has them: the calling plugin's memory blocks first, then
 * the plugin's arguments (i64 values as BigInts: a block's address or a number); it returns what
 * the import returns (an address from `plugin.store`, a number), or nothing.
 */
export type HostFunction = (plugin: CurrentPlugin, ...args: Array<bigint | number>) => bigint | number | undefined | void | Promise<bigint | number | undefined | void>;

/** A block as read: its bytes, as text, as JSON (Extism's `PluginOutput`, without the DataView). */
export interface BlockView {
  bytes(): Uint8Array;
  text(): string;
  string(): string;
  json(): unknown;
}

const dec = new TextDecoder();
const enc = new TextEncoder();

/** The calling plugin's memory blocks, for one host function call. */
export class CurrentPlugin {
  private readonly blocks = new Map<number, Uint8Array | null>();
  private readonly before = new Map<number, Uint8Array>();
  private next: number;
  private error: string | undefined;

  /** `blocks`: those the arguments name, by index; `next`: the index the next new block takes. */
  constructor(
    blocks: ReadonlyArray<[number, Uint8Array]>,
    next: number,
    /** The plugin's process: its pid and module name. */
    readonly caller: { pid: number; name: string },
  ) {
    for (const [i, b] of blocks) {
      this.blocks.set(i, b);
      this.before.set(i, b.slice());
    }
    this.next = next;
  }

  /** The block at `addr` (one an argument names, or one made here), or null. */
  read(addr: bigint | number): BlockView | null {
    const b = this.readBytes(addr);
    if (b === null) return null;
    return { bytes: () => b, text: () => dec.decode(b), string: () => dec.decode(b), json: () => JSON.parse(dec.decode(b)) as unknown };
  }

  /** The block's bytes themselves (writing into them changes the plugin's block), or null. */
  readBytes(addr: bigint | number): Uint8Array | null {
    const b = this.blocks.get(index(addr));
    if (b === undefined || b === null) return null;
    return b.subarray(offset(addr));
  }

  /** The block's bytes as UTF-8 text, or null. */
  readString(addr: bigint | number): string | null {
    const b = this.readBytes(addr);
    return b === null ? null : dec.decode(b);
  }

  /** The length of the block at `addr` (0 for none). */
  length(addr: bigint | number): bigint {
    return BigInt(this.blocks.get(index(addr))?.length ?? 0);
  }

  /** A new block of `size` zero bytes, for the plugin: its address. */
  alloc(size: bigint | number): bigint {
    const n = Number(size);
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`alloc of ${String(size)} bytes`);
    const i = this.next++;
    this.blocks.set(i, new Uint8Array(n));
    return BigInt(i) << SHIFT;
  }

  /** A new block holding `data` (text as UTF-8): its address, to return to the plugin. */
  store(data: string | Uint8Array): bigint {
    const bytes = typeof data === 'string' ? enc.encode(data) : data;
    const addr = this.alloc(bytes.length);
    this.blocks.get(index(addr))?.set(bytes);
    return addr;
  }

  /** Lets the block at `addr` go. */
  free(addr: bigint | number): void {
    const i = index(addr);
    if (i !== 0 && this.blocks.has(i)) this.blocks.set(i, null);
  }

  /** Sets the plugin call's error (the caller of the plugin gets `service/error` with it). */
  setError(err: string | Error): void {
    this.error = err instanceof Error ? err.message : err;
  }

  /** What goes back to the plugin: the blocks changed, made or freed (by index, ascending), and the error set. */
  changes(): { blocks: Array<[number, Uint8Array | null]>; error?: string } {
    const out: Array<[number, Uint8Array | null]> = [];
    for (const [i, b] of [...this.blocks].sort((x, y) => x[0] - y[0])) {
      const was = this.before.get(i);
      if (b !== null && was !== undefined && same(b, was)) continue;
      out.push([i, b]);
    }
    return { blocks: out, ...(this.error !== undefined ? { error: this.error } : {}) };
  }
}

function index(addr: bigint | number): number {
  return Number(BigInt.asUintN(64, BigInt(addr)) >> SHIFT);
}

function offset(addr: bigint | number): number {
  return Number(BigInt.asUintN(64, BigInt(addr)) & ((1n << SHIFT) - 1n));
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
