/**
 * A remote process's window across its link (ADR 0029): the node that runs it shares the window
 * (its frames, PNG, one on the link at a time: the next goes once the caller acknowledged the
 * last), the caller shows it in a window of its own and sends its input back. The window
 * service (gfx) does the drawing; these shapes are what remote mode needs of it.
 */
import { RemoteTag } from './protocol';

/** Where a shared window's frames go (gfx calls it). */
export interface WindowSink {
  open(width: number, height: number): void;
  /** Resolves once the other side took the frame, or can take nothing more. */
  frame(png: Uint8Array, width: number, height: number): Promise<void>;
  close(): void;
}

/** The windows of this node, as remote mode uses them (the kernel's `gfx`). */
export interface WindowsLike {
  /** The node that runs `pid` for another: its window's frames go to `sink`, input comes back. */
  share(pid: number, sink: WindowSink): { input(event: number[]): boolean; stop(): void };
  /** The spawning node: a window here for `pid`, run on `node`; its input goes to `input`. */
  show(pid: number, node: string, width: number, height: number, input: (event: number[]) => void): { frame(png: Uint8Array, width: number, height: number): Promise<void>; close(): void };
}

/** Serving side: one process's window sent to its caller. */
export class SharedWindow {
  private acked: (() => void) | undefined;
  private readonly share: { input(event: number[]): boolean; stop(): void };

  constructor(
    windows: WindowsLike,
    pid: number,
    /** Sends a message about the window; false if the link could not take it. */
    send: (m: { type: typeof RemoteTag.winOpen; width: number; height: number } | { type: typeof RemoteTag.winFrame; width: number; height: number; data: Uint8Array } | { type: typeof RemoteTag.winClose }) => boolean,
  ) {
    this.share = windows.share(pid, {
      open: (width, height) => void send({ type: RemoteTag.winOpen, width, height }),
      frame: (data, width, height) =>
        new Promise<void>((ok) => {
          this.acked = ok;
          // A frame the link cannot take (past a device link's frame size) is skipped, not waited on.
          if (!send({ type: RemoteTag.winFrame, width, height, data })) this.ack();
        }),
      close: () => void send({ type: RemoteTag.winClose }),
    });
  }

  /** The caller showed the last frame. */
  ack(): void {
    const a = this.acked;
    this.acked = undefined;
    a?.();
  }

  input(event: number[]): void {
    this.share.input(event);
  }

  /** The process ended or the link did: nothing more is sent. */
  stop(): void {
    this.share.stop();
    this.ack();
  }
}

/** Caller side: the window of one remote process, shown here. */
export class ShownWindowRelay {
  private shown: { frame(png: Uint8Array, width: number, height: number): Promise<void>; close(): void } | undefined;

  constructor(
    private readonly windows: WindowsLike | undefined,
    private readonly pid: number,
    private readonly node: string,
    private readonly input: (event: number[]) => void,
    private readonly ack: () => void,
  ) {}

  open(width: number, height: number): void {
    if (this.shown !== undefined || this.windows === undefined) return;
    try {
      this.shown = this.windows.show(this.pid, this.node, width, height, this.input);
    } catch {
      // No room for another window here: its frames are acknowledged and dropped.
    }
  }

  /** Shows a frame, then acknowledges it so the next may come. */
  frame(png: Uint8Array, width: number, height: number): void {
    const shown = this.shown ?? (this.open(width, height), this.shown);
    void (shown?.frame(png, width, height) ?? Promise.resolve()).catch(() => {}).then(() => this.ack());
  }

  close(): void {
    this.shown?.close();
    this.shown = undefined;
  }
}
