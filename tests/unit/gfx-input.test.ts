import { describe, expect, it } from 'vitest';
import { EventType, Key, Mod } from '../../src/ipc/gfx-abi';
import { keyCode, keyEvent, modsOf, wheelPixels } from '../../src/gfx/input';
import { canvasRequest } from '../../src/gfx/manifest';
import { EventRing, allocateEventRing } from '../../src/ipc/event-ring';

describe('key codes', () => {
  it('gives the code point of a one-character key', () => {
    expect(keyCode('a')).toBe(97);
    expect(keyCode('A')).toBe(65);
    expect(keyCode(' ')).toBe(32);
    expect(keyCode('é')).toBe(0xe9);
    expect(keyCode('😀')).toBe(0x1f600); // two UTF-16 units, one character
  });

  it('gives ASCII control codes and codes above Unicode for named keys', () => {
    expect(keyCode('Enter')).toBe(13);
    expect(keyCode('Escape')).toBe(27);
    expect(keyCode('Backspace')).toBe(8);
    expect(keyCode('ArrowLeft')).toBe(Key.left);
    expect(keyCode('F1')).toBe(Key.f0 + 1);
    expect(keyCode('F12')).toBe(Key.f0 + 12);
    expect(keyCode('F13')).toBe(Key.unknown);
    expect(keyCode('Dead')).toBe(Key.unknown);
    expect(keyCode('')).toBe(Key.unknown);
    for (const k of Object.values(Key)) if (k > 127) expect(k).toBeGreaterThan(0x10ffff);
  });

  it('carries modifiers and auto-repeat', () => {
    const mods = { shiftKey: true, ctrlKey: false, altKey: true, metaKey: false };
    expect(modsOf(mods)).toBe(Mod.shift | Mod.alt);
    expect(keyEvent(true, { ...mods, key: 'x', repeat: true })).toEqual({
      type: EventType.keyDown,
      x: 0,
      y: 0,
      button: 1,
      key: 120,
      mods: Mod.shift | Mod.alt,
    });
  });

  it('turns wheel lines and pages into pixels', () => {
    expect(wheelPixels(0, 3, 1, 600)).toEqual({ x: 0, y: 48 });
    expect(wheelPixels(0, -1, 2, 600)).toEqual({ x: 0, y: -600 });
    expect(wheelPixels(2.6, 0, 0, 600)).toEqual({ x: 3, y: 0 });
  });
});

describe('canvas manifest field', () => {
  it('reads a size and the detach flag', () => {
    expect(canvasRequest({ canvas: { width: 640, height: 480 } })).toEqual({ width: 640, height: 480, detach: false });
    expect(canvasRequest({ canvas: { width: 8, height: 8, detach: true } })).toEqual({ width: 8, height: 8, detach: true });
  });

  it('ignores a missing or impossible canvas', () => {
    for (const m of [{}, null, { canvas: 5 }, { canvas: { width: 0, height: 5 } }, { canvas: { width: 1.5, height: 5 } },
      { canvas: { width: 9000, height: 5 } }, { canvas: { width: 5000, height: 5000 } }, { canvas: { width: 5, height: 5, detach: 'yes' } }]) {
      expect(canvasRequest(m)).toBeUndefined();
    }
  });
});

describe('EventRing', () => {
  it('hands records over in order across many laps', () => {
    const ring = new EventRing(allocateEventRing(8, 6));
    let next = 0;
    let expected = 0;
    for (let lap = 0; lap < 200; lap += 1) {
      const burst = (lap * 7) % 9;
      for (let i = 0; i < burst; i += 1) if (ring.push([next, 1000 - next, 1, 2, 3, 4])) next += 1;
      ring.take((lap * 5) % 6, (rec) => {
        expect([...rec]).toEqual([expected, 1000 - expected, 1, 2, 3, 4]);
        expected += 1;
      });
    }
    ring.take(100, (rec) => {
      expect(rec[0]).toBe(expected);
      expected += 1;
    });
    expect(expected).toBe(next);
  });

  it('drops and counts records once full, never overwriting what is queued', () => {
    const ring = new EventRing(allocateEventRing(4, 2));
    for (let i = 0; i < 6; i += 1) ring.push([i, i]);
    expect(ring.available()).toBe(4);
    expect(ring.dropped).toBe(2);
    const seen: number[] = [];
    expect(ring.take(10, (r) => seen.push(r[0] ?? -1))).toBe(4);
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('refuses records after close but keeps what was queued', () => {
    const ring = new EventRing(allocateEventRing(4, 1));
    ring.push([7]);
    ring.close();
    expect(ring.push([8])).toBe(false);
    expect(ring.closed).toBe(true);
    expect(ring.take(4, () => {})).toBe(1);
  });

  it('rejects buffers that are not event rings', () => {
    expect(EventRing.from(new ArrayBuffer(64))).toBeNull();
    expect(EventRing.from(new SharedArrayBuffer(64))).toBeNull();
    expect(EventRing.from({})).toBeNull();
    expect(EventRing.from(allocateEventRing(4, 6))).not.toBeNull();
  });
});
