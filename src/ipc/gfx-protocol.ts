/**
 * Guest calls of the graphics service, between a module's worker glue and the page. Types only;
 * the page parses what arrives as `unknown` (service.ts), the glue checks the reply (guest.ts).
 */

/** Call names. */
export const GfxCall = {
  /** Opens the caller's window (or takes the one its manifest opened at spawn). Answered. */
  open: 'gfx.open',
  /** The glue resized its canvas (a present of another size). A notice. */
  resized: 'gfx.resized',
  /** The module closed its window and runs on. A notice. */
  close: 'gfx.close',
  /**
   * A frame, from a module whose realm cannot be given the window's canvas (the iframe mode): it
   * draws on a canvas of its own and sends each frame as an ImageBitmap. A notice.
   */
  frame: 'gfx.frame',
} as const;

/** `gfx.open`: 0 x 0 means the size the manifest asks for. */
export interface OpenArgs {
  width: number;
  height: number;
}

/**
 * The answer to `gfx.open`: the canvas (transferred) and the window's input ring (shared). A
 * module that cannot be given a canvas gets none (it sends `gfx.frame` instead).
 */
export interface OpenReply {
  id: number;
  width: number;
  height: number;
  canvas?: OffscreenCanvas;
  events: SharedArrayBuffer;
  /** No canvas on purpose: the module draws on its own and sends frames (its window is shown on another node). */
  frames?: true;
}

/** `gfx.frame`. */
export interface FrameArgs {
  id: number;
  bitmap: ImageBitmap;
}

/** `gfx.resized`. */
export interface ResizedArgs {
  id: number;
  width: number;
  height: number;
}

/** `gfx.close`. */
export interface CloseArgs {
  id: number;
}
