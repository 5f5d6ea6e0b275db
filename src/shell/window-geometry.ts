/**
 * The arithmetic of floating windows: where a new one goes, moving and resizing within the
 * viewport, and mapping a point on a scaled canvas back to canvas pixels. Pure, in CSS pixels.
 */

/** A width and a height. */
export interface Size {
  width: number;
  height: number;
}

/** A position. */
export interface Point {
  x: number;
  y: number;
}

/** A window's outer box (title bar included), relative to the viewport. */
export interface Rect extends Point, Size {}

/** Height of the title bar. */
export const TITLE_HEIGHT = 34;
/** The smallest content area a window can be resized to. */
export const MIN_CONTENT: Size = { width: 120, height: 72 };
/** How much of a window must stay in view, so its title bar can always be grabbed again. */
export const KEEP_VISIBLE = 64;
/** The first window's distance from the top right corner, and the step between successive ones. */
const ORIGIN: Point = { x: 32, y: 72 };
const CASCADE = 28;
const CASCADE_STEPS = 8;
/** A new window takes at most this share of the viewport. */
const MAX_SHARE = 0.9;

/**
 * Where window number `index` opens: its canvas at one CSS pixel per canvas pixel, scaled down
 * (aspect kept) to fit the viewport, cascaded from the top right (the desktop's module list, where
 * modules are started, is on the left).
 */
export function initialRect(canvas: Size, viewport: Size, index: number): Rect {
  const room: Size = {
    width: Math.max(MIN_CONTENT.width, viewport.width * MAX_SHARE - ORIGIN.x),
    height: Math.max(MIN_CONTENT.height, viewport.height * MAX_SHARE - ORIGIN.y - TITLE_HEIGHT),
  };
  const scale = Math.min(1, room.width / canvas.width, room.height / canvas.height);
  const width = Math.max(MIN_CONTENT.width, Math.round(canvas.width * scale));
  const height = Math.max(MIN_CONTENT.height, Math.round(canvas.height * scale)) + TITLE_HEIGHT;
  const step = (index % CASCADE_STEPS) * CASCADE;
  const x = Math.max(0, viewport.width - width - ORIGIN.x - step);
  return clampRect({ x, y: ORIGIN.y + step, width, height }, viewport);
}

/** Keeps a window's title bar reachable: at least KEEP_VISIBLE pixels of it inside the viewport. */
export function clampRect(r: Rect, viewport: Size): Rect {
  const x = Math.min(Math.max(r.x, KEEP_VISIBLE - r.width), Math.max(0, viewport.width - KEEP_VISIBLE));
  const y = Math.min(Math.max(r.y, 0), Math.max(0, viewport.height - TITLE_HEIGHT));
  return { ...r, x, y };
}

/** `start` moved by (dx, dy), kept reachable. */
export function moveRect(start: Rect, dx: number, dy: number, viewport: Size): Rect {
  return clampRect({ ...start, x: start.x + dx, y: start.y + dy }, viewport);
}

/** `start` grown by (dw, dh) at its bottom-right corner, no smaller than MIN_CONTENT. */
export function resizeRect(start: Rect, dw: number, dh: number): Rect {
  return {
    ...start,
    width: Math.max(MIN_CONTENT.width, start.width + dw),
    height: Math.max(MIN_CONTENT.height + TITLE_HEIGHT, start.height + dh),
  };
}

/** The content area of a window box (below the title bar). */
export function contentSize(r: Rect): Size {
  return { width: r.width, height: Math.max(0, r.height - TITLE_HEIGHT) };
}

/** Where a canvas of `canvas` pixels is drawn inside a `box` with `object-fit: contain`. */
export function containRect(box: Size, canvas: Size): Rect {
  const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
  const width = canvas.width * scale;
  const height = canvas.height * scale;
  return { x: (box.width - width) / 2, y: (box.height - height) / 2, width, height };
}

/**
 * The canvas pixel under `p`, a point relative to the box's top left, for a canvas shown with
 * `object-fit: contain`. Points off the picture (in the letterbox, or dragged outside) are clamped
 * to its nearest edge pixel; `inside` tells which.
 */
export function toCanvasPixel(p: Point, box: Size, canvas: Size): Point & { inside: boolean } {
  const shown = containRect(box, canvas);
  const fx = shown.width > 0 ? (p.x - shown.x) / shown.width : 0;
  const fy = shown.height > 0 ? (p.y - shown.y) / shown.height : 0;
  const inside = fx >= 0 && fx < 1 && fy >= 0 && fy < 1;
  const x = Math.min(canvas.width - 1, Math.max(0, Math.floor(fx * canvas.width)));
  const y = Math.min(canvas.height - 1, Math.max(0, Math.floor(fy * canvas.height)));
  return { x, y, inside };
}

/** A CSS size in device pixels (what a module should render at to be sharp). */
export function devicePixels(s: Size, dpr: number): Size {
  return { width: Math.max(1, Math.round(s.width * dpr)), height: Math.max(1, Math.round(s.height * dpr)) };
}

/** True when the canvas is shown at least at its own size (then keep pixels square, not blurred). */
export function upscaled(box: Size, canvas: Size, dpr: number): boolean {
  const shown = containRect(box, canvas);
  return shown.width * dpr >= canvas.width && shown.height * dpr >= canvas.height;
}
