/**
 * Windows across nodes (remote mode, ADR 0029): the node that runs a process sends its window's
 * frames, encoded as PNG, to the node that spawned it, one at a time (the next once the other
 * side took the last; frames in between are skipped, the newest kept), and the spawning node
 * shows them in a window of its own whose input goes back. The types are structural: remote
 * mode (src/remote) declares the same shapes without importing this folder.
 */

/** Where a shared window goes: the link to the node that spawned its process. */
export interface WindowSink {
  /** The window opened, or changed size. */
  open(width: number, height: number): void;
  /** One frame; resolves once the other side took it (or can take nothing more). */
  frame(png: Uint8Array, width: number, height: number): Promise<void>;
  /** The window closed here. */
  close(): void;
}

/** A process's window shared with another node: input from there, and the end of sharing. */
export interface WindowShare {
  /** An input event from the other node (type, x, y, button, key, mods); false if dropped. */
  input(event: number[]): boolean;
  stop(): void;
}

/** A window here for a process that runs on another node. */
export interface ShownWindow {
  /** Shows one frame (PNG); resolves once shown, or dropped (the window is gone, the bytes are no image). */
  frame(png: Uint8Array, width: number, height: number): Promise<void>;
  close(): void;
}

/** The frames of one process's window on their way out. */
export class Outgoing {
  sink: WindowSink | undefined;
  /** The newest frame not yet sent: a newer one replaces it. */
  private pending: ImageBitmap | undefined;
  private sending = false;
  private canvas: OffscreenCanvas | undefined;
  private stopped = false;

  /** `show` puts a frame on this page's own window too, once it was encoded. */
  constructor(private readonly show: (bitmap: ImageBitmap) => void) {}

  /** A frame came from the module. */
  offer(bitmap: ImageBitmap): void {
    if (this.stopped) {
      bitmap.close();
      return;
    }
    this.pending?.close();
    this.pending = bitmap;
    void this.pump();
  }

  /** Sends what waits, one frame at a time. */
  async pump(): Promise<void> {
    while (!this.sending && !this.stopped && this.sink !== undefined && this.pending !== undefined) {
      this.sending = true;
      const bitmap = this.pending;
      this.pending = undefined;
      try {
        const png = await this.encode(bitmap);
        const { width, height } = bitmap;
        this.show(bitmap);
        await this.sink?.frame(png, width, height);
      } catch {
        bitmap.close();
      } finally {
        this.sending = false;
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.pending?.close();
    this.pending = undefined;
    this.sink = undefined;
  }

  private async encode(bitmap: ImageBitmap): Promise<Uint8Array> {
    const { width, height } = bitmap;
    if (this.canvas === undefined || this.canvas.width !== width || this.canvas.height !== height) this.canvas = new OffscreenCanvas(width, height);
    const ctx = this.canvas.getContext('2d');
    if (ctx === null) throw new Error('no 2d context');
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0);
    // PNG: lossless, so what the other node shows is what the module drew.
    const blob = await this.canvas.convertToBlob({ type: 'image/png' });
    return new Uint8Array(await blob.arrayBuffer());
  }
}

/** The picture in `png`, or undefined if it is none. */
export async function decodeFrame(png: Uint8Array): Promise<ImageBitmap | undefined> {
  try {
    return await createImageBitmap(new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
  } catch {
    return undefined;
  }
}
