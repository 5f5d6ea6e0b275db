/**
 * The graphics and input ABI as numbers: event types, key codes, modifier bits, limits. It must
 * match the graphics section of `modules/include/webmk.h` word for word.
 */

/** `webmk_event.type`. */
export const EventType = {
  keyDown: 1,
  keyUp: 2,
  pointerDown: 3,
  pointerUp: 4,
  pointerMove: 5,
  wheel: 6,
  focus: 7,
  blur: 8,
  resize: 9,
  /** The person closed a detachable window: later presents fail with EPIPE until reopened. */
  close: 10,
} as const;
/** One of the `EventType` values. */
export type EventTypeCode = (typeof EventType)[keyof typeof EventType];

/** Bits of `webmk_event.mods`. */
export const Mod = { shift: 1, ctrl: 2, alt: 4, meta: 8 } as const;

/**
 * Key codes for named keys (`KeyboardEvent.key` longer than one character). Keys with an ASCII
 * control character use it (Enter is '\r', as in SDL); the others sit above the last Unicode
 * code point, so they never collide with a character.
 */
export const Key = {
  backspace: 8,
  tab: 9,
  enter: 13,
  escape: 27,
  delete: 127,
  unknown: 0x110000,
  left: 0x110001,
  right: 0x110002,
  up: 0x110003,
  down: 0x110004,
  home: 0x110005,
  end: 0x110006,
  pageUp: 0x110007,
  pageDown: 0x110008,
  insert: 0x110009,
  shift: 0x11000a,
  control: 0x11000b,
  alt: 0x11000c,
  meta: 0x11000d,
  capsLock: 0x11000e,
  /** F1 is `f0 + 1` ... F12 is `f0 + 12`. */
  f0: 0x110010,
} as const;

/** Int32 words per event in the ring and in guest memory: type, x, y, button, key, mods. */
export const EVENT_WORDS = 6;
/** Bytes per `webmk_event`. */
export const EVENT_BYTES = EVENT_WORDS * 4;
/** Events a window queues before it drops new ones (the module polls too rarely). */
export const EVENT_CAPACITY = 1024;

/** The largest canvas side, in pixels (Chromium's canvas limit is far above; memory is not). */
export const MAX_SIDE = 8192;
/** The largest canvas area, in pixels (4096 x 4096: a 64 MiB RGBA frame). */
export const MAX_PIXELS = 4096 * 4096;
/** Windows open at once, over all processes. */
export const MAX_WINDOWS = 32;

/** One input event, as the module sees it. */
export interface GfxEvent {
  type: EventTypeCode;
  x: number;
  y: number;
  button: number;
  key: number;
  mods: number;
}

/** True when a canvas of this size is allowed. */
export function validSize(width: number, height: number): boolean {
  return (
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width >= 1 &&
    height >= 1 &&
    width <= MAX_SIDE &&
    height <= MAX_SIDE &&
    width * height <= MAX_PIXELS
  );
}
