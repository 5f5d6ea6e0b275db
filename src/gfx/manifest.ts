/** The `canvas` field of a module manifest: a window at spawn, its size, and what closing it does. */
import { validSize } from '../ipc';

/** What a manifest asks for: `"canvas": { "width": 640, "height": 480, "detach": false }`. */
export interface CanvasRequest {
  width: number;
  height: number;
  /** Closing the window detaches the module (it keeps running) instead of ending it. */
  detach: boolean;
}

/**
 * The canvas a manifest asks for, or undefined when it asks for none or asks for one that
 * cannot be (a size out of range, a field of the wrong type): such a module opens its window
 * itself, with `gfx_open`.
 */
export function canvasRequest(manifest: unknown): CanvasRequest | undefined {
  if (typeof manifest !== 'object' || manifest === null) return undefined;
  const c = (manifest as Record<string, unknown>).canvas;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return undefined;
  const { width, height, detach } = c as Record<string, unknown>;
  if (typeof width !== 'number' || typeof height !== 'number' || !validSize(width, height)) return undefined;
  if (detach !== undefined && typeof detach !== 'boolean') return undefined;
  return { width, height, detach: detach === true };
}
