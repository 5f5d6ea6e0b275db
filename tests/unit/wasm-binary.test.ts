/** Truncation detection and the memory cap, checked against the engine's own compiler. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { capMemory, importResults, sections } from '../../src/registry/wasm-binary';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A module with one memory (min, optional max), exported as "memory". */
function withMemory(min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [0x00, ...leb(min)] : [0x01, ...leb(min), ...leb(max)];
  const mem = [0x01, ...limits];
  const exp = [0x01, 0x06, ...Buffer.from('memory'), 0x02, 0x00];
  return new Uint8Array([...HEADER, 0x05, ...leb(mem.length), ...mem, 0x07, ...leb(exp.length), ...exp]);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function grows(bytes: Uint8Array, pages: number): boolean {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const memory = inst.exports.memory as WebAssembly.Memory;
  try {
    memory.grow(pages);
    return true;
  } catch {
    return false;
  }
}

describe('sections', () => {
  it('finds every section of a whole module', () => {
    const s = sections(withMemory(1));
    expect(s !== 'truncated' && s.map((x) => x.id)).toEqual([5, 7]);
  });

  it('says truncated for every proper prefix', () => {
    const whole = withMemory(1, 2);
    const all = sections(whole);
    if (all === 'truncated') throw new Error('whole module seen as truncated');
    // A prefix that ends exactly between sections is a valid shorter module.
    const boundaries = new Set([8, ...all.map((x) => x.end)]);
    for (let n = 0; n < whole.length; n++) {
      if (boundaries.has(n)) continue;
      expect(sections(whole.subarray(0, n))).toBe('truncated');
    }
  });
});

describe('capMemory', () => {
  it('adds a maximum to a memory that has none, and the engine enforces it', () => {
    const bytes = withMemory(1);
    expect(grows(bytes, 100)).toBe(true);
    const capped = capMemory(bytes, 16);
    if (capped === 'min-exceeds') throw new Error('unexpected');
    expect(capped.maxPages).toBe(16);
    expect(grows(capped.bytes, 15)).toBe(true);
    expect(grows(capped.bytes, 16)).toBe(false);
  });

  it('keeps a smaller maximum the module declares, and reports it', () => {
    const bytes = withMemory(1, 4);
    const capped = capMemory(bytes, 16);
    if (capped === 'min-exceeds') throw new Error('unexpected');
    expect(capped.bytes).toBe(bytes);
    expect(capped.maxPages).toBe(4);
  });

  it('lowers a larger maximum', () => {
    const capped = capMemory(withMemory(2, 1000), 300);
    if (capped === 'min-exceeds') throw new Error('unexpected');
    expect(capped.maxPages).toBe(300);
    expect(grows(capped.bytes, 298)).toBe(true);
    expect(grows(capped.bytes, 299)).toBe(false);
  });

  it('refuses a minimum over the cap', () => {
    expect(capMemory(withMemory(40, 50), 16)).toBe('min-exceeds');
  });

  it('leaves a module without memory alone', () => {
    const bytes = new Uint8Array(HEADER);
    const capped = capMemory(bytes, 16);
    expect(capped !== 'min-exceeds' && capped.bytes).toBe(bytes);
  });
});

describe('importResults', () => {
  it("reads the result types of a C PDK plugin's host functions", () => {
    const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '../fixtures/hostfn.wasm')));
    const r = importResults(bytes, 'extism:host/user');
    expect(r === null ? null : Object.fromEntries(r)).toEqual({ greet: ['i64'], add: ['i64'], nothing_here: ['i32'] });
    // Extism's own namespace, from the same sections: alloc returns a block's address.
    expect(importResults(bytes, 'extism:host/env')?.get('alloc')).toEqual(['i64']);
  });

  it('gives null for truncated bytes and nothing for a module without imports', () => {
    const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '../fixtures/hostfn.wasm')));
    expect(importResults(bytes.subarray(0, 40), 'extism:host/user')).toBeNull();
    expect(importResults(withMemory(1), 'extism:host/user')?.size).toBe(0);
  });
});
