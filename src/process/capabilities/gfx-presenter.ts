/**
 * Shows a module's frames, in its own worker: the frame goes from guest memory into the
 * OffscreenCanvas with one `putImageData` (the ImageData is a view of guest memory, not a copy),
 * and the next present waits for the display. See docs/decisions/0006-graphics.md for why this
 * path and not WebGL.
 */

/** How long a present waits for an animation frame that does not come (a hidden page). */
const FRAME_TIMEOUT_MS = 1000;
/** The pace where a worker has no `requestAnimationFrame`. */
const FALLBACK_FRAME_MS = 1000 / 60;

/** What a present did. */
export type PresentResult = 'shown' | 'resized' | 'fault';

/** One canvas in the module's worker. */
export class Presenter {
  readonly canvas: OffscreenCanvas;
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  /** Used only where a view of guest memory cannot back an ImageData (shared memory). */
  private scratch: ImageData | undefined;

  /** Throws when the canvas gives no 2D context (it was taken for something else). */
  constructor(canvas: OffscreenCanvas) {
    this.canvas = canvas;
    const ctx = canvas.getContext('2d', { alpha: false });
    if (ctx === null) throw new Error('the canvas has no 2d context');
    this.ctx = ctx;
  }

  get width(): number {
    return this.canvas.width;
  }

  get height(): number {
    return this.canvas.height;
  }

  /** What was drawn last, as a bitmap to send elsewhere (the canvas is left blank). */
  bitmap(): ImageBitmap {
    return this.canvas.transferToImageBitmap();
  }

  /** Sets the canvas size (what the window shows changes with it). */
  resize(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
    this.scratch = undefined;
  }

  /**
   * Draws the RGBA8 frame at `ptr` in `memory` (row-major, no padding), resizing the canvas
   * first when the frame has another size. `fault` when the frame lies outside the memory.
   */
  draw(memory: ArrayBuffer, ptr: number, width: number, height: number): PresentResult {
    const bytes = width * height * 4;
    if (ptr + bytes > memory.byteLength) return 'fault';
    const resized = width !== this.canvas.width || height !== this.canvas.height;
    if (resized) this.resize(width, height);
    this.ctx.putImageData(this.frame(memory, ptr, width, height), 0, 0);
    return resized ? 'resized' : 'shown';
  }

  private frame(memory: ArrayBuffer, ptr: number, width: number, height: number): ImageData {
    const view = new Uint8ClampedArray(memory, ptr, width * height * 4);
    try {
      return new ImageData(view, width, height);
    } catch {
      // ImageData refuses shared memory (a threaded module): one extra copy.
      if (this.scratch?.width !== width || this.scratch.height !== height) this.scratch = new ImageData(width, height);
      this.scratch.data.set(view);
      return this.scratch;
    }
  }
}

/**
 * Resolves at the display's next frame: `requestAnimationFrame` where the worker has it, else a
 * 60 Hz timer; never later than a second (a hidden page runs no animation frames).
 */
export function nextFrame(): Promise<void> {
  return new Promise((done) => {
    const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number }).requestAnimationFrame;
    if (typeof raf !== 'function') {
      setTimeout(done, FALLBACK_FRAME_MS);
      return;
    }
    const timer = setTimeout(done, FRAME_TIMEOUT_MS);
    raf(() => {
      clearTimeout(timer);
      done();
    });
  });
}
