/**
 * DOM input to ABI events: key codes, modifier bits, wheel deltas. Pure functions over the
 * fields of DOM events, so they run (and are tested) anywhere.
 */
import { EventType, Key, Mod, type GfxEvent } from '../ipc';

const NAMED: Record<string, number> = {
  Backspace: Key.backspace,
  Tab: Key.tab,
  Enter: Key.enter,
  Escape: Key.escape,
  Delete: Key.delete,
  ArrowLeft: Key.left,
  ArrowRight: Key.right,
  ArrowUp: Key.up,
  ArrowDown: Key.down,
  Home: Key.home,
  End: Key.end,
  PageUp: Key.pageUp,
  PageDown: Key.pageDown,
  Insert: Key.insert,
  Shift: Key.shift,
  Control: Key.control,
  Alt: Key.alt,
  Meta: Key.meta,
  CapsLock: Key.capsLock,
};

/**
 * The key code of `KeyboardEvent.key`: its code point when it is one character, a `Key` code
 * for a named key, `Key.unknown` for anything else (dead keys, media keys, ...).
 */
export function keyCode(key: string): number {
  const cp = key.codePointAt(0);
  if (cp !== undefined && key.length === (cp > 0xffff ? 2 : 1)) return cp;
  const named = NAMED[key];
  if (named !== undefined) return named;
  const f = /^F([1-9]|1[0-2])$/.exec(key);
  if (f?.[1] !== undefined) return Key.f0 + Number(f[1]);
  return Key.unknown;
}

/** The modifier fields every DOM input event has. */
export interface ModifierState {
  shiftKey: boolean;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

/** `webmk_event.mods` of an event. */
export function modsOf(e: ModifierState): number {
  return (e.shiftKey ? Mod.shift : 0) | (e.ctrlKey ? Mod.ctrl : 0) | (e.altKey ? Mod.alt : 0) | (e.metaKey ? Mod.meta : 0);
}

/** A key event: `button` is 1 for an auto-repeat. */
export function keyEvent(down: boolean, e: ModifierState & { key: string; repeat: boolean }): GfxEvent {
  return { type: down ? EventType.keyDown : EventType.keyUp, x: 0, y: 0, button: e.repeat ? 1 : 0, key: keyCode(e.key), mods: modsOf(e) };
}

/** DOM `WheelEvent.deltaMode` values. */
const DELTA_LINE = 1;
const DELTA_PAGE = 2;
const LINE_PX = 16;

/** Wheel deltas in pixels, whatever unit the browser reported them in. */
export function wheelPixels(deltaX: number, deltaY: number, deltaMode: number, pageHeight: number): { x: number; y: number } {
  const unit = deltaMode === DELTA_LINE ? LINE_PX : deltaMode === DELTA_PAGE ? pageHeight : 1;
  return { x: Math.round(deltaX * unit), y: Math.round(deltaY * unit) };
}

/** An event with no position, key or button (focus, blur, close). */
export function plainEvent(type: GfxEvent['type'], x = 0, y = 0): GfxEvent {
  return { type, x, y, button: 0, key: 0, mods: 0 };
}
