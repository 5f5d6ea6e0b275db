import { describe, expect, it } from 'vitest';
import { isWall, MemorySlots, spaceOf } from '../../src/kernel/memory-slots';

/** `n` processes that started and got their memory. */
function running(s: MemorySlots, n: number): void {
  for (let i = 0; i < n; i++) {
    s.take('page');
    s.instantiated('page');
  }
}

describe('memory slots', () => {
  it('counts per renderer and refuses nothing before the wall is met', () => {
    const s = new MemorySlots();
    running(s, 200);
    s.take('frames');
    expect(s.refusal('page')).toBeUndefined();
    expect(s.snapshot()).toEqual({ page: { used: 200 }, frames: { used: 1 } });
  });

  it('learns the limit where the wall was met, refuses at it and not below it', () => {
    const s = new MemorySlots();
    running(s, 125);
    s.take('page');
    expect(s.met('page')).toMatch(/hold 125 live wasm memories.*observed at 125\); ending or hibernating a process frees one/);
    s.release('page', false);
    expect(s.refusal('page')).toMatch(/observed at 125/);
    expect(s.refusal('frames')).toBeUndefined();
    s.release('page', true);
    expect(s.refusal('page')).toBeUndefined();
  });

  it('does not count processes still starting into the limit (they may be refused too)', () => {
    const s = new MemorySlots();
    running(s, 125);
    for (let i = 0; i < 3; i++) s.take('page');
    s.met('page');
    expect(s.snapshot().page).toEqual({ used: 128, limit: 125 });
  });

  it('keeps the highest count seen live: a refusal below it does not lower it, more live raises it', () => {
    const s = new MemorySlots();
    running(s, 125);
    s.met('page');
    for (let i = 0; i < 7; i++) s.release('page', true);
    s.met('page');
    expect(s.snapshot().page.limit).toBe(125);
    running(s, 9);
    expect(s.snapshot().page).toEqual({ used: 127, limit: 127 });
  });

  it('counts a process with providers beside it (ADR 0033) as that many memories, taken and given back together', () => {
    const s = new MemorySlots();
    running(s, 122);
    s.take('page');
    s.met('page');
    expect(s.snapshot().page).toEqual({ used: 123, limit: 122 });
    s.release('page', false);
    s.release('page', true);
    expect(s.refusal('page')).toBeUndefined();
    expect(s.refusal('page', 2)).toMatch(/observed at 122/);
    s.take('page', 1);
    s.instantiated('page', 1);
    s.release('page', true, 1);
    s.release('page', true, 1);
    expect(s.snapshot().page.used).toBe(120);
    expect(s.refusal('page', 2)).toBeUndefined();
    s.take('page', 3);
    s.instantiated('page', 3);
    expect(s.snapshot().page).toEqual({ used: 123, limit: 123 });
  });

  it('never counts below zero', () => {
    const s = new MemorySlots();
    s.release('frames', true);
    expect(s.snapshot().frames.used).toBe(0);
  });

  it("tells V8's address-space refusal from other failures, and where each mode holds its memory", () => {
    expect(isWall('WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance')).toBe(true);
    expect(isWall('WebAssembly.Memory(): could not allocate memory')).toBe(false);
    expect(isWall(undefined)).toBe(false);
    expect([spaceOf('worker'), spaceOf('inpage'), spaceOf('iframe'), spaceOf('remote')]).toEqual(['page', 'page', 'frames', undefined]);
  });
});

describe('memory slots after many processes ended', () => {
  it('counts memories given back in the last seconds into a limit met just after them, and forgets them later', () => {
    let t = 0;
    const s = new MemorySlots(() => t);
    running(s, 120);
    for (let i = 0; i < 118; i++) s.release('page', true);
    // The browser has not let the 118 go yet: the next two starts are refused with 2 live.
    s.take('page');
    s.met('page');
    s.release('page', false);
    expect(s.snapshot().page).toEqual({ used: 2, limit: 120 });
    expect(s.refusal('page')).toBeUndefined();
    // Later, with nothing given back recently, a refusal teaches the count live then.
    t = 60_000;
    const fresh = new MemorySlots(() => t);
    running(fresh, 3);
    fresh.release('page', true);
    t += 11_000;
    fresh.take('page');
    fresh.met('page');
    expect(fresh.snapshot().page.limit).toBe(2);
  });
});
