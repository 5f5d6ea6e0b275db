/**
 * The person's input on a module's canvas, translated into graphics events: pointer positions in
 * canvas pixels, wheel deltas in pixels, keys with their modifiers, focus and blur.
 */
import { EventType, keyEvent, modsOf, plainEvent, wheelPixels, type GfxEvent, type GfxWindowInfo } from '../gfx';
import { toCanvasPixel } from './window-geometry';

/**
 * Sends what happens on `canvas` to `send` until `signal` aborts. `win()` is read at each event,
 * not once, because the window the canvas shows may be replaced by a newer record of it.
 */
export function forwardInput(
  canvas: HTMLCanvasElement,
  win: () => GfxWindowInfo | undefined,
  send: (e: GfxEvent) => void,
  signal: AbortSignal,
): void {
  const opts = { signal };
  canvas.addEventListener('pointerdown', (e) => pointer(e, EventType.pointerDown, win(), send), opts);
  canvas.addEventListener('pointermove', (e) => pointer(e, EventType.pointerMove, win(), send), opts);
  canvas.addEventListener('pointerup', (e) => pointer(e, EventType.pointerUp, win(), send), opts);
  canvas.addEventListener('pointercancel', (e) => pointer(e, EventType.pointerUp, win(), send), opts);
  canvas.addEventListener('wheel', (e) => wheel(e, win(), send), { ...opts, passive: false });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault(), opts);
  canvas.addEventListener('keydown', (e) => key(e, true, send), opts);
  canvas.addEventListener('keyup', (e) => key(e, false, send), opts);
  canvas.addEventListener('focus', () => send(plainEvent(EventType.focus)), opts);
  canvas.addEventListener('blur', () => send(plainEvent(EventType.blur)), opts);
}

function at(e: MouseEvent, win: GfxWindowInfo | undefined): { x: number; y: number } | undefined {
  if (win === undefined) return undefined;
  const b = win.canvas.getBoundingClientRect();
  return toCanvasPixel({ x: e.clientX - b.left, y: e.clientY - b.top }, b, win);
}

function pointer(e: PointerEvent, type: GfxEvent['type'], win: GfxWindowInfo | undefined, send: (e: GfxEvent) => void): void {
  const canvas = win?.canvas;
  const p = at(e, win);
  if (canvas === undefined || p === undefined) return;
  if (type === EventType.pointerDown) {
    e.preventDefault(); // no text selection, no native drag; focus is given below
    canvas.focus({ preventScroll: true });
    canvas.setPointerCapture(e.pointerId);
  }
  const button = type === EventType.pointerMove ? e.buttons : Math.max(0, e.button);
  send({ type, x: p.x, y: p.y, button, key: 0, mods: modsOf(e) });
}

function wheel(e: WheelEvent, win: GfxWindowInfo | undefined, send: (e: GfxEvent) => void): void {
  if (win === undefined) return;
  e.preventDefault();
  const d = wheelPixels(e.deltaX, e.deltaY, e.deltaMode, win.height);
  send({ type: EventType.wheel, x: d.x, y: d.y, button: 0, key: 0, mods: modsOf(e) });
}

function key(e: KeyboardEvent, down: boolean, send: (e: GfxEvent) => void): void {
  // Tab leaves the window, so the page stays usable from the keyboard.
  if (e.key === 'Tab' && !e.ctrlKey && !e.altKey && !e.metaKey) return;
  e.preventDefault();
  e.stopPropagation();
  send(keyEvent(down, e));
}
