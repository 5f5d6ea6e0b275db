/**
 * Extism's host ABI (`extism:host/env`), the part a plugin needs to take bytes and give bytes:
 * input, output, memory blocks, errors, vars, logs, and config values from the manifest. Blocks
 * live here, on the host side, as the Extism JS SDK keeps them: an address is the block's index
 * shifted left by 48 bits plus an offset into it, and 0 is no block. A plugin reads its input
 * and writes its output through these calls, never through pointers into its own memory, so any
 * plugin built with an Extism PDK runs unmodified. Anything the plugin imports from the module
 * that is not here traps when it is called (see run.ts). `http_request` is answered by the kernel
 * (`http`, a blocking call), which alone decides which hosts a plugin may reach (ADR 0026).
 */
import { Ring } from '../ipc';

const SHIFT = 48n;
const OFFSET_MASK = (1n << SHIFT) - 1n;
/** Blocks a call may hold at once, and bytes in all (unless the manifest says fewer): past either, `alloc` traps the call. */
const MAX_BLOCKS = 1 << 16;
const MAX_BYTES = 256 * 1024 * 1024;
/** Vars kept per instance (bytes of keys and values in all), unless the manifest says fewer. */
const MAX_VAR_BYTES = 1024 * 1024;

/** An Extism call went wrong on the host side: the plugin is trapped, the call fails `service/error`. */
export class ExtismFault extends Error {}

/** A plugin went past its memory limit on the host side: the call fails `service/memory-exceeded`. */
export class ExtismMemoryFault extends ExtismFault {}

/** The kernel's answer to an `http_request`: the status and the body. */
export interface HttpAnswer {
  status: number;
  body: Uint8Array;
}

/** What a plugin instance is given besides its config. */
export interface ExtismOptions {
  /** Bytes its blocks may hold at once. */
  maxBytes?: number;
  /** Bytes of vars it may keep. */
  maxVarBytes?: number;
  /** Sends an HTTP request (its JSON, and a body) through the kernel; throws to refuse it. */
  http?: (req: string, body: Uint8Array | undefined) => HttpAnswer;
  /**
   * The same where the realm may not block (the page): `http_request` then returns a promise, and
   * the caller links it as a suspending import (ADR 0032); rejects to refuse.
   */
  httpAsync?: (req: string, body: Uint8Array | undefined) => Promise<HttpAnswer>;
}

const dec = new TextDecoder();

/** The host state of one plugin instance: vars across calls; input, output, error and blocks per call. */
export class ExtismHost {
  private blocks: Array<Uint8Array | null> = [null];
  private held = 0;
  private input: Uint8Array = new Uint8Array(0);
  private inputAddr = 0n;
  private output: Uint8Array | undefined;
  private error: string | undefined;
  private readonly vars = new Map<string, Uint8Array>();
  private readonly stderr: Ring;

  private readonly config: Map<string, Uint8Array>;
  private readonly maxBytes: number;
  private readonly maxVarBytes: number;
  private status = 0;

  constructor(
    stderr: SharedArrayBuffer,
    config: Record<string, string>,
    private readonly opts: ExtismOptions = {},
  ) {
    this.stderr = new Ring(stderr);
    this.config = new Map(Object.entries(config).map(([k, v]) => [k, new TextEncoder().encode(v)]));
    this.maxBytes = Math.min(opts.maxBytes ?? MAX_BYTES, MAX_BYTES);
    this.maxVarBytes = Math.min(opts.maxVarBytes ?? MAX_VAR_BYTES, MAX_VAR_BYTES);
  }

  /** Starts a call with `input`; what the previous call left is let go. */
  begin(input: Uint8Array): void {
    this.blocks = [null];
    this.held = 0;
    this.output = undefined;
    this.error = undefined;
    this.input = input;
    this.inputAddr = this.store(input.slice());
  }

  /** What the call set as its output (empty when it set none), and its error message, if any. */
  end(): { output: Uint8Array; error: string | undefined } {
    const r = { output: this.output ?? new Uint8Array(0), error: this.error };
    this.blocks = [null];
    this.held = 0;
    this.input = new Uint8Array(0);
    return r;
  }

  /** The `extism:host/env` functions (i64 values are BigInts). */
  imports(): Record<string, (...args: bigint[]) => unknown> {
    return {
      input_length: () => BigInt(this.input.length),
      input_offset: () => this.inputAddr,
      input_load_u8: (off) => this.input[this.index(off, this.input.length, 1)] ?? 0,
      input_load_u64: (off) => u64(this.input, this.index(off, this.input.length, 8)),
      length: (addr) => BigInt(this.block(addr)?.length ?? 0),
      length_unsafe: (addr) => BigInt(this.block(addr)?.length ?? 0),
      alloc: (n) => this.store(new Uint8Array(this.size(n))),
      free: (addr) => this.free(addr),
      load_u8: (addr) => {
        const [b, o] = this.at(addr, 1);
        return b[o] ?? 0;
      },
      load_u64: (addr) => {
        const [b, o] = this.at(addr, 8);
        return u64(b, o);
      },
      store_u8: (addr, v) => {
        const [b, o] = this.at(addr, 1);
        b[o] = Number(BigInt.asUintN(8, BigInt(v)));
      },
      store_u64: (addr, v) => {
        const [b, o] = this.at(addr, 8);
        new DataView(b.buffer, b.byteOffset).setBigUint64(o, BigInt.asUintN(64, v), true);
      },
      output_set: (addr, len) => {
        const [b, o] = this.at(addr, Number(len));
        this.output = b.slice(o, o + Number(len));
      },
      error_set: (addr) => {
        const b = this.block(addr);
        this.error = b === undefined ? 'error' : dec.decode(b);
      },
      config_get: (key) => {
        const v = this.config.get(this.text(key));
        return v === undefined ? 0n : this.store(v.slice());
      },
      var_get: (key) => {
        const v = this.vars.get(this.text(key));
        return v === undefined ? 0n : this.store(v.slice());
      },
      var_set: (key, value) => this.setVar(this.text(key), value === 0n ? undefined : this.block(value)),
      log_info: (addr) => this.log('info', addr),
      log_debug: (addr) => this.log('debug', addr),
      log_warn: (addr) => this.log('warn', addr),
      log_error: (addr) => this.log('error', addr),
      log_trace: (addr) => this.log('trace', addr),
      get_log_level: () => 0,
      http_request: (req, body) => {
        const got = (answer: HttpAnswer): bigint => {
          this.status = answer.status;
          return this.store(answer.body);
        };
        const payload = body === 0n ? undefined : this.block(body);
        if (this.opts.httpAsync !== undefined) return this.opts.httpAsync(this.text(req), payload).then(got);
        if (this.opts.http === undefined) throw new ExtismFault('http_request is not offered here');
        return got(this.opts.http(this.text(req), payload));
      },
      http_status_code: () => this.status,
    };
  }

  /** The blocks the values name (an i64 value is read as an address; plain numbers name none), by index. */
  blocksNamed(values: readonly unknown[]): { blocks: Array<[number, Uint8Array]>; next: number } {
    const seen = new Set<number>();
    const blocks: Array<[number, Uint8Array]> = [];
    for (const v of values) {
      if (typeof v !== 'bigint') continue;
      const i = Number(BigInt.asUintN(64, v) >> SHIFT);
      const b = this.blocks[i];
      if (i === 0 || seen.has(i) || b === undefined || b === null) continue;
      seen.add(i);
      blocks.push([i, b]);
    }
    return { blocks, next: this.blocks.length };
  }

  /**
   * Takes back what a host function did to the blocks (host-functions.ts): a block it changed is
   * overwritten, one it made lands at the index it was given (the plugin made none meanwhile: it
   * was blocked), one it freed is let go; `error` is the call's error, as `error_set` gives it.
   */
  applyHostChanges(changes: ReadonlyArray<[number, Uint8Array | null]>, error: string | undefined): void {
    for (const [i, bytes] of changes) {
      if (bytes === null) {
        if (i < this.blocks.length) this.free(BigInt(i) << SHIFT);
        else while (this.blocks.length <= i) this.blocks.push(null);
        continue;
      }
      const old = this.blocks[i];
      if (i > 0 && i < this.blocks.length && old !== null && old !== undefined && old.length === bytes.length) {
        old.set(bytes);
        continue;
      }
      if (i < this.blocks.length) throw new ExtismFault(`a host function wrote a block it could not (index ${i})`);
      while (this.blocks.length < i) this.blocks.push(null);
      this.size(BigInt(bytes.length));
      this.store(bytes);
    }
    if (error !== undefined) this.error = error;
  }

  private size(n: bigint): number {
    const size = Number(BigInt.asUintN(64, n));
    if (size > this.maxBytes - this.held || this.blocks.length >= MAX_BLOCKS) {
      throw new ExtismMemoryFault(`alloc of ${size} bytes is over the plugin's memory limit (${this.held} of ${this.maxBytes} bytes held)`);
    }
    return size;
  }

  private store(b: Uint8Array): bigint {
    this.held += b.length;
    this.blocks.push(b);
    return BigInt(this.blocks.length - 1) << SHIFT;
  }

  private free(addr: bigint): void {
    const i = Number(BigInt.asUintN(64, addr) >> SHIFT);
    const b = this.blocks[i];
    if (i === 0 || b === undefined || b === null) return;
    this.held -= b.length;
    this.blocks[i] = null;
  }

  private block(addr: bigint): Uint8Array | undefined {
    const i = Number(BigInt.asUintN(64, addr) >> SHIFT);
    return this.blocks[i] ?? undefined;
  }

  /** The block and offset of `addr`, checked to hold `n` bytes; a bad address traps the call. */
  private at(addr: bigint, n: number): [Uint8Array, number] {
    const b = this.block(addr);
    const o = Number(BigInt.asUintN(64, addr) & OFFSET_MASK);
    if (b === undefined || o + n > b.length || n < 0) throw new ExtismFault(`address ${addr} is outside every block`);
    return [b, o];
  }

  private index(off: bigint, length: number, n: number): number {
    const o = Number(BigInt.asUintN(64, off) & OFFSET_MASK);
    if (o + n > length) throw new ExtismFault(`input offset ${o} is past the input (${length} bytes)`);
    return o;
  }

  private text(addr: bigint): string {
    const b = this.block(addr);
    if (b === undefined) throw new ExtismFault('no such block');
    return dec.decode(b);
  }

  private setVar(key: string, value: Uint8Array | undefined): void {
    if (value === undefined) {
      this.vars.delete(key);
      return;
    }
    let total = key.length + value.length;
    for (const [k, v] of this.vars) if (k !== key) total += k.length + v.length;
    if (total > this.maxVarBytes) throw new ExtismMemoryFault(`vars are over ${this.maxVarBytes} bytes`);
    this.vars.set(key, value.slice());
  }

  private log(level: string, addr: bigint): void {
    const b = this.block(addr);
    if (b === undefined) return;
    // What does not fit in the stderr ring now is dropped: a log never blocks a call.
    this.stderr.write(new TextEncoder().encode(`[${level}] ${dec.decode(b)}\n`));
  }
}

function u64(b: Uint8Array, o: number): bigint {
  if (o + 8 > b.length) throw new ExtismFault('read past the end of a block');
  return new DataView(b.buffer, b.byteOffset).getBigUint64(o, true);
}
