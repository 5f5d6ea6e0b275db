/** The SPSC byte ring: many laps with seeded random sizes, wrap-around, close semantics. */
import { describe, expect, it } from 'vitest';
import { Ring, allocateRing } from '../../src/ipc/ring';

/** A small seeded generator (xorshift32) so failures replay. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('Ring', () => {
  it('refuses capacities that are not powers of two', () => {
    expect(() => allocateRing(100)).toThrow(RangeError);
    expect(() => allocateRing(8)).toThrow(RangeError);
  });

  it('carries a seeded random stream over many laps without loss or reordering', () => {
    for (const seed of [1, 7, 42, 1234]) {
      const next = rng(seed);
      const ring = new Ring(allocateRing(64));
      const total = 20_000;
      const src = new Uint8Array(total).map((_, i) => (i * 31 + seed) & 0xff);
      const out = new Uint8Array(total);
      let written = 0;
      let read = 0;
      while (read < total) {
        if (written < total && next() < 0.6) {
          const n = Math.floor(next() * 40);
          written += ring.write(src.subarray(written, Math.min(total, written + n)));
        }
        const m = Math.floor(next() * 40);
        read += ring.read(out.subarray(read, Math.min(total, read + m)));
        expect(ring.available()).toBe(written - read);
        expect(ring.space()).toBe(64 - (written - read));
      }
      expect(out).toEqual(src);
    }
  });

  it('is back-pressure when full: writes take nothing, nothing is overwritten', () => {
    const ring = new Ring(allocateRing(16));
    expect(ring.write(new Uint8Array(20).fill(1))).toBe(16);
    expect(ring.write(new Uint8Array([9]))).toBe(0);
    const out = new Uint8Array(16);
    expect(ring.read(out)).toBe(16);
    expect([...out]).toEqual(Array(16).fill(1));
  });

  it('reports end of stream only after the last byte is read', () => {
    const ring = new Ring(allocateRing(16));
    ring.write(new Uint8Array([1, 2, 3]));
    ring.closeWriter();
    expect(ring.waitReadable(0)).toBe('ok');
    expect(ring.readChunk()).toEqual(new Uint8Array([1, 2, 3]));
    expect(ring.waitReadable(0)).toBe('closed');
  });

  it('times out a blocking read on an empty open ring', () => {
    const ring = new Ring(allocateRing(16));
    expect(ring.waitReadable(5)).toBe('timed-out');
  });

  it('tells the writer when the reader has gone', () => {
    const ring = new Ring(allocateRing(16));
    ring.closeReader();
    expect(ring.waitWritable()).toBe('closed');
  });
});
