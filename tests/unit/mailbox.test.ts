/** The bus arena's logic: routing, framing across wrap-around, overflow, closed slots. */
import { describe, expect, it } from 'vitest';
import { BusArena, allocateBusArena, frameSize } from '../../src/ipc/mailbox';

const enc = new TextEncoder();
const text = (d: Uint8Array) => new TextDecoder().decode(d);

function arena(): { a: BusArena; open: (pattern: string, capacity?: number) => number } {
  const a = new BusArena(allocateBusArena(256 * 1024 * 1024));
  let next = BusArena.inboxesStart;
  return {
    a,
    open: (pattern, capacity = 1024) => {
      a.ensure(next + capacity);
      const slot = a.open(pattern, 1, next, capacity);
      next += capacity;
      return slot;
    },
  };
}

describe('BusArena', () => {
  it('routes by exact topic, prefix pattern and wildcard', () => {
    const { a, open } = arena();
    const exact = open('a/b');
    const prefix = open('a/*');
    const all = open('*');
    const other = open('c/*');
    expect(a.publish('a/b', enc.encode('1'), 2, false)).toBe(3);
    expect(a.publish('a/x/y', enc.encode('2'), 2, false)).toBe(2);
    expect(a.takeFrame(exact)?.topic).toBe('a/b');
    expect(a.takeFrame(exact)).toBeNull();
    expect([a.takeFrame(prefix)?.topic, a.takeFrame(prefix)?.topic]).toEqual(['a/b', 'a/x/y']);
    expect(a.takeFrame(all)?.pid).toBe(2);
    expect(a.takeFrame(other)).toBeNull();
  });

  it('keeps frames intact across many laps of a small inbox', () => {
    const { a, open } = arena();
    const slot = open('t', 256);
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const body = `m${i}:${'z'.repeat(x % 90)}`;
      expect(a.publish('t', enc.encode(body), 1, false)).toBe(1);
      const f = a.takeFrame(slot);
      expect(f && text(f.data)).toBe(body);
    }
  });

  it('drops and counts what does not fit, never overwriting', () => {
    const { a, open } = arena();
    const slot = open('t', 256);
    const per = frameSize(1, 50);
    const fits = Math.floor(256 / per);
    for (let i = 0; i < fits + 5; i++) a.publish('t', enc.encode(String(i).padEnd(50, '.')), 1, false);
    expect(a.dropped(slot)).toBe(5);
    for (let i = 0; i < fits; i++) expect(text(a.takeFrame(slot)?.data ?? new Uint8Array()).startsWith(`${i}.`)).toBe(true);
    expect(a.takeFrame(slot)).toBeNull();
  });

  it('stops delivering to a closed slot, even to a publisher that routed before it closed', () => {
    const { a, open } = arena();
    const slot = open('t');
    expect(a.publish('t', enc.encode('before'), 1, false)).toBe(1);
    const gen = a.generation(slot);
    a.close(slot);
    expect(a.isOpen(slot, gen)).toBe(false);
    expect(a.publish('t', enc.encode('after'), 1, false)).toBe(0);
    // The slot reopens for another pattern: the old route must not reach it.
    const again = open('u');
    expect(again).toBe(slot);
    expect(a.publish('t', enc.encode('stale'), 1, false)).toBe(0);
    expect(a.takeFrame(again)).toBeNull();
  });

  it('lets the page free a lock a dead publisher held', () => {
    const { a, open } = arena();
    const slot = open('t');
    const i32 = new Int32Array(a.sab);
    const lockWord = (64 + slot * 320) / 4 + 2;
    Atomics.store(i32, lockWord, 77);
    a.releaseLocks(77);
    expect(Atomics.load(i32, lockWord)).toBe(0);
    expect(a.publish('t', enc.encode('ok'), 1, false)).toBe(1);
  });

  it('holds a reader still only where it is parked in a receive, and lets it go (updates, ADR 0023)', () => {
    const { a, open } = arena();
    const slot = open('t');
    // Busy (not parked): the page's fence is up all the same, and the reader sees it.
    expect(a.fence(slot)).toBe(false);
    expect(a.fenced(slot)).toBe(true);
    a.markParked(slot, true);
    expect(a.fence(slot)).toBe(true);
    // Its process ended under the fence: the slot is kept clean for the next incarnation.
    a.unfence(slot, true);
    expect(a.fenced(slot)).toBe(false);
    expect(a.fence(slot)).toBe(false);
    a.unfence(slot, false);
    // A slot opened again starts neither fenced nor parked.
    a.markParked(slot, true);
    a.fence(slot);
    const again = open('u');
    expect(a.fenced(again)).toBe(false);
    expect(a.fence(again)).toBe(false);
  });
});

