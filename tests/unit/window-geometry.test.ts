import { describe, expect, it } from 'vitest';
import {
  KEEP_VISIBLE,
  MIN_CONTENT,
  TITLE_HEIGHT,
  clampRect,
  containRect,
  contentSize,
  devicePixels,
  initialRect,
  moveRect,
  resizeRect,
  toCanvasPixel,
  upscaled,
} from '../../src/shell/window-geometry';

const viewport = { width: 1280, height: 800 };

describe('initialRect', () => {
  it('shows a small canvas at one CSS pixel per canvas pixel, below a title bar', () => {
    const r = initialRect({ width: 320, height: 200 }, viewport, 0);
    expect(contentSize(r)).toEqual({ width: 320, height: 200 });
    expect(r.height).toBe(200 + TITLE_HEIGHT);
  });

  it('scales a canvas larger than the viewport down, keeping its aspect', () => {
    const r = initialRect({ width: 1920, height: 1080 }, viewport, 0);
    const c = contentSize(r);
    expect(c.width).toBeLessThan(viewport.width);
    expect(r.y + r.height).toBeLessThanOrEqual(viewport.height);
    expect(c.width / c.height).toBeCloseTo(1920 / 1080, 1);
  });

  it('cascades successive windows from the top right and wraps the cascade', () => {
    const a = initialRect({ width: 100, height: 100 }, viewport, 0);
    const b = initialRect({ width: 100, height: 100 }, viewport, 1);
    expect(a.x + a.width).toBeLessThan(viewport.width);
    expect(a.x).toBeGreaterThan(viewport.width / 2);
    expect(b.x).toBeLessThan(a.x);
    expect(b.y).toBeGreaterThan(a.y);
    expect(initialRect({ width: 100, height: 100 }, viewport, 8)).toEqual(a);
  });

  it('never makes a window smaller than the minimum content size', () => {
    const r = initialRect({ width: 4, height: 2 }, viewport, 0);
    expect(contentSize(r)).toEqual(MIN_CONTENT);
  });
});

describe('moving and resizing', () => {
  const start = { x: 100, y: 100, width: 400, height: 300 };

  it('moves by the pointer delta', () => {
    expect(moveRect(start, 30, -20, viewport)).toEqual({ ...start, x: 130, y: 80 });
  });

  it('keeps the title bar reachable whichever way the window is dragged', () => {
    const left = moveRect(start, -5000, 0, viewport);
    expect(left.x + left.width).toBe(KEEP_VISIBLE);
    const right = moveRect(start, 5000, 0, viewport);
    expect(right.x).toBe(viewport.width - KEEP_VISIBLE);
    expect(moveRect(start, 0, -5000, viewport).y).toBe(0);
    expect(moveRect(start, 0, 5000, viewport).y).toBe(viewport.height - TITLE_HEIGHT);
  });

  it('clamps a window left outside a viewport that shrank', () => {
    const r = clampRect({ x: 2000, y: 2000, width: 400, height: 300 }, { width: 800, height: 600 });
    expect(r.x).toBe(800 - KEEP_VISIBLE);
    expect(r.y).toBe(600 - TITLE_HEIGHT);
  });

  it('resizes from the corner, no smaller than the minimum', () => {
    expect(resizeRect(start, 50, 40)).toEqual({ ...start, width: 450, height: 340 });
    const tiny = resizeRect(start, -1000, -1000);
    expect(contentSize(tiny)).toEqual(MIN_CONTENT);
    expect(tiny.x).toBe(start.x);
  });
});

describe('canvas coordinates', () => {
  const canvas = { width: 640, height: 400 };

  it('maps a point on a canvas shown at its own size one to one', () => {
    expect(toCanvasPixel({ x: 10.5, y: 399.9 }, canvas, canvas)).toEqual({ x: 10, y: 399, inside: true });
  });

  it('maps a point on a scaled canvas back to canvas pixels', () => {
    const box = { width: 320, height: 200 }; // half size
    expect(toCanvasPixel({ x: 160, y: 100 }, box, canvas)).toEqual({ x: 320, y: 200, inside: true });
    const big = { width: 1280, height: 800 }; // double size
    expect(toCanvasPixel({ x: 3, y: 5 }, big, canvas)).toEqual({ x: 1, y: 2, inside: true });
  });

  it('accounts for the letterbox of a box with another aspect', () => {
    const box = { width: 640, height: 800 }; // the picture is 640 x 400, centred: bars of 200
    expect(containRect(box, canvas)).toEqual({ x: 0, y: 200, width: 640, height: 400 });
    expect(toCanvasPixel({ x: 100, y: 300 }, box, canvas)).toEqual({ x: 100, y: 100, inside: true });
    expect(toCanvasPixel({ x: 100, y: 50 }, box, canvas)).toEqual({ x: 100, y: 0, inside: false });
    expect(toCanvasPixel({ x: 700, y: 900 }, box, canvas)).toEqual({ x: 639, y: 399, inside: false });
  });

  it('does not depend on the device pixel ratio: CSS size to canvas size is all there is', () => {
    // A 640 x 400 canvas shown in a 320 x 200 CSS box is sharp at DPR 2 and scaled at DPR 1;
    // a point maps the same either way.
    expect(toCanvasPixel({ x: 319, y: 199 }, { width: 320, height: 200 }, canvas)).toEqual({ x: 638, y: 398, inside: true });
    expect(upscaled({ width: 320, height: 200 }, canvas, 2)).toBe(true);
    expect(upscaled({ width: 320, height: 200 }, canvas, 1)).toBe(false);
  });

  it('gives sizes in device pixels', () => {
    expect(devicePixels({ width: 320.4, height: 200 }, 2)).toEqual({ width: 641, height: 400 });
    expect(devicePixels({ width: 0, height: 0 }, 1)).toEqual({ width: 1, height: 1 });
  });
});
