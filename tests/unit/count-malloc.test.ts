/**
 * The count-malloc transform's rewrite (src/hosts/asyncify/count-malloc.ts) with binaryen in Node,
 * the rewritten program run under Node's WASI: it reports its malloc calls and bytes on stderr at
 * its end, whether `_start` returns or it exits with a code, and the program's output is unchanged.
 */
import binaryen from 'binaryen';
import { mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { describe, expect, it } from 'vitest';
import { countMalloc } from '../../src/hosts/asyncify/count-malloc';

const FIXTURES = join(import.meta.dirname, '../fixtures');

function rewrite(file: string): { refused: string | undefined; bytes?: Uint8Array } {
  const mod = binaryen.readBinary(readFileSync(join(FIXTURES, file)));
  try {
    const F = binaryen.Features;
    mod.setFeatures(F.MutableGlobals | F.BulkMemory | F.BulkMemoryOpt | F.SignExt | F.NontrappingFPToInt);
    const refused = countMalloc(binaryen, mod);
    if (refused !== undefined) return { refused };
    expect(mod.validate()).toBeTruthy();
    return { refused, bytes: mod.emitBinary() };
  } finally {
    mod.dispose();
  }
}

async function run(bytes: Uint8Array, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'count-malloc-'));
  const out = openSync(join(dir, 'out'), 'w+');
  const err = openSync(join(dir, 'err'), 'w+');
  try {
    const wasi = new WASI({ version: 'preview1', args: ['allocs', ...args], stdout: out, stderr: err, returnOnExit: true });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>), wasi.getImportObject() as WebAssembly.Imports);
    const code = wasi.start(instance);
    return { code, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

describe('count-malloc', () => {
  it('counts the calls and the bytes, reported when _start returns', async () => {
    const { bytes } = rewrite('allocs.wasm');
    // One array of 5 pointers (20 bytes), then 5 blocks of 64; printf's buffer may add one more.
    const r = await run(bytes as Uint8Array, ['5', '64']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('allocated 5 blocks (10)\n');
    const m = /^malloc: (\d+) calls, (\d+) bytes\n$/.exec(r.stderr);
    expect(m).not.toBeNull();
    const [calls, total] = [Number(m?.[1]), Number(m?.[2])];
    expect(calls).toBeGreaterThanOrEqual(6);
    expect(total).toBeGreaterThanOrEqual(20 + 5 * 64);
    // Four blocks more (arguments of the same length): four more calls, 4 x 64 bytes and four
    // more pointers in the array, exactly.
    const r2 = await run(bytes as Uint8Array, ['9', '64']);
    const m2 = /^malloc: (\d+) calls, (\d+) bytes\n$/.exec(r2.stderr);
    expect([Number(m2?.[1]) - calls, Number(m2?.[2]) - total]).toEqual([4, 4 * 4 + 4 * 64]);
  });

  it('reports once when the program exits with a code through proc_exit', async () => {
    const { bytes } = rewrite('allocs.wasm');
    const r = await run(bytes as Uint8Array, ['3', '10', '7']);
    expect(r.code).toBe(7);
    expect(r.stderr.match(/malloc: \d+ calls, \d+ bytes\n/g)).toHaveLength(1);
  });

  it('refuses a module with no malloc to find, and one rewritten already', () => {
    expect(rewrite('mathlib.wasm').refused).toMatch(/no function named malloc/);
    const { bytes } = rewrite('allocs.wasm');
    const mod = binaryen.readBinary(bytes as Uint8Array);
    try {
      expect(countMalloc(binaryen, mod)).toMatch(/already/);
    } finally {
      mod.dispose();
    }
  });
});
