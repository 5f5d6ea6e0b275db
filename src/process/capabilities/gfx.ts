/**
 * The graphics imports of a module (`webmk.gfx_open`, `gfx_present`, `gfx_close`,
 * `input_poll`), in its worker. Opening and presenting suspend the module (JSPI) while the page
 * answers or the display catches up; polling input never blocks: it reads a ring the page fills.
 * Every failure is a negative errno, never a trap.
 */
import { Errno, isKernelError, type KernelErrorCode } from '../../common';
import { EVENT_BYTES, EventRing, GfxCall, validSize, type FrameArgs, type OpenArgs, type ResizedArgs } from '../../ipc';
import type { GuestContext, GuestFunction, GuestImports } from '../guest';
import { Presenter, nextFrame } from './gfx-presenter';

/** Events one poll hands over at most, whatever `max` says. */
const MAX_POLL = 4096;
/** How long a present to a closed window waits before it fails (a loop that ignores it idles). */
const CLOSED_WAIT_MS = 100;

const ERRNO_OF: Partial<Record<KernelErrorCode, number>> = {
  'gfx/bad-size': Errno.INVAL,
  'gfx/busy': Errno.BUSY,
  'gfx/limit': Errno.AGAIN,
  'gfx/no-window': Errno.PIPE,
  'kernel/denied': Errno.ACCES,
  'kernel/unsupported': Errno.NOSYS,
  'ipc/unknown-call': Errno.NOSYS,
};

/** The window a process holds in its worker. */
interface Held {
  id: number;
  presenter: Presenter;
  events: EventRing;
  /** The canvas is the module's own: each frame is sent to the kernel as a bitmap. */
  sends: boolean;
}

/** Builds the graphics imports of one process. */
export function gfxImports(ctx: GuestContext): GuestImports {
  if (typeof WebAssembly.Suspending !== 'function') {
    const nosys: GuestFunction = () => -Errno.NOSYS;
    return { gfx_open: nosys, gfx_present: nosys, gfx_close: nosys, input_poll: nosys };
  }
  const g = new Graphics(ctx);
  // A migratable process parked with a window (ADR 0034): the frame it showed, where its memory
  // holds it, for the window to show while it has no host; its next host opens the window again.
  ctx.parking?.keep('gfx', () => g.capture());
  g.restore(ctx.parking?.kept('gfx'));
  return {
    gfx_open: ctx.suspending((w, h) => g.open((w ?? 0) >>> 0, (h ?? 0) >>> 0)),
    gfx_present: ctx.suspending((ptr, w, h) => g.present((ptr ?? 0) >>> 0, (w ?? 0) >>> 0, (h ?? 0) >>> 0)),
    gfx_close: () => g.close(),
    input_poll: (ptr, max) => g.poll(ptr >>> 0, max >>> 0),
  };
}

/** What a parked process's graphics keep (`ParkHooks.keep('gfx')`): the last frame shown, in its memory. */
export interface KeptGraphics {
  /** The window was open (the next present opens it again). */
  open: boolean;
  /** The person closed its detachable window: presents fail with -EPIPE until it opens one. */
  closed: boolean;
  /** The last frame presented: its place in memory and its size. */
  frame?: { ptr: number; width: number; height: number };
}

class Graphics {
  private held: Held | undefined;
  /** Events of a window closed under the module, still to be polled (its `close` event). */
  private leftover: EventRing | undefined;
  /** Resumed after the person closed its window (the ring of its `close` event stayed behind). */
  private closedBefore = false;
  private lastFrame: { ptr: number; width: number; height: number } | undefined;

  constructor(private readonly ctx: GuestContext) {}

  capture(): KeptGraphics {
    const open = this.live() !== undefined;
    return { open, closed: !open && (this.leftover !== undefined || this.closedBefore), ...(this.lastFrame !== undefined ? { frame: this.lastFrame } : {}) };
  }

  restore(kept: unknown): void {
    if (typeof kept !== 'object' || kept === null) return;
    this.closedBefore = (kept as KeptGraphics).closed === true;
  }

  async open(width: number, height: number): Promise<number> {
    const held = this.live();
    if (held !== undefined) {
      if (width === 0 && height === 0) return 0;
      if (!validSize(width, height)) return -Errno.INVAL;
      this.resize(held, width, height);
      return 0;
    }
    if (!(width === 0 && height === 0) && !validSize(width, height)) return -Errno.INVAL;
    try {
      const args: OpenArgs = { width, height };
      const reply = await this.ctx.call(GfxCall.open, args);
      this.held = accept(reply, this.ctx.relayed);
      this.leftover = undefined;
      this.closedBefore = false;
      return 0;
    } catch (e) {
      return -errnoOf(e);
    }
  }

  async present(ptr: number, width: number, height: number): Promise<number> {
    // Resumed in this present: it runs again, drawing the same frame into the window reopened here.
    this.ctx.parking?.rewound();
    if (!validSize(width, height)) return -Errno.INVAL;
    let held = this.live();
    if (held === undefined) {
      if (this.leftover !== undefined || this.closedBefore) {
        // The person closed the window: say so, slowly enough that a loop ignoring it idles.
        await new Promise((ok) => setTimeout(ok, CLOSED_WAIT_MS));
        return -Errno.PIPE;
      }
      const opened = await this.open(width, height);
      if (opened < 0) return opened;
      held = this.live();
      if (held === undefined) return -Errno.PIPE;
    }
    const result = held.presenter.draw(this.ctx.memory().buffer as ArrayBuffer, ptr, width, height);
    if (result === 'fault') return -Errno.FAULT;
    if (result === 'resized') this.notifyResized(held);
    if (held.sends) {
      const bitmap = held.presenter.bitmap();
      const args: FrameArgs = { id: held.id, bitmap };
      this.ctx.notify(GfxCall.frame, args, [bitmap]);
    }
    this.lastFrame = { ptr, width, height };
    // A safe point (ADR 0034): parked with this frame on the screen, before waiting for the next.
    if (this.ctx.parking?.shouldPark() === true) return this.ctx.parking.park('gfx_present');
    await nextFrame();
    return 0;
  }

  close(): number {
    const held = this.live();
    if (held === undefined) return -Errno.PIPE;
    this.ctx.notify(GfxCall.close, { id: held.id });
    this.held = undefined;
    return 0;
  }

  poll(ptr: number, max: number): number {
    const ring = this.live()?.events ?? this.leftover;
    if (ring === undefined || max === 0) return 0;
    const n = Math.min(max, MAX_POLL);
    const mem = this.ctx.memory();
    if (ptr + n * EVENT_BYTES > mem.byteLength) return -Errno.FAULT;
    const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
    return ring.take(n, (rec, i) => {
      const at = ptr + i * EVENT_BYTES;
      for (let w = 0; w < rec.length; w += 1) view.setInt32(at + w * 4, rec[w] ?? 0, true);
    });
  }

  /** The window if it is still open; one the person closed becomes `leftover`. */
  private live(): Held | undefined {
    if (this.held !== undefined && this.held.events.closed) {
      this.leftover = this.held.events;
      this.held = undefined;
    }
    return this.held;
  }

  private resize(held: Held, width: number, height: number): void {
    if (held.presenter.width === width && held.presenter.height === height) return;
    held.presenter.resize(width, height);
    this.notifyResized(held);
  }

  private notifyResized(held: Held): void {
    const args: ResizedArgs = { id: held.id, width: held.presenter.width, height: held.presenter.height };
    this.ctx.notify(GfxCall.resized, args);
  }
}

/**
 * The held window from a `gfx.open` answer; throws (EIO) on any other shape. A relayed process
 * gets no canvas and draws on one of its own, and so does one whose window is shown on another node.
 */
function accept(reply: unknown, relayed: boolean): Held {
  const r = typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>) : {};
  const events = EventRing.from(r.events);
  if (typeof r.id !== 'number' || events === null) throw new Error('malformed gfx.open answer');
  if (r.canvas instanceof OffscreenCanvas) return { id: r.id, presenter: new Presenter(r.canvas), events, sends: false };
  if (!(relayed || r.frames === true) || typeof r.width !== 'number' || typeof r.height !== 'number' || !validSize(r.width, r.height)) {
    throw new Error('malformed gfx.open answer');
  }
  return { id: r.id, presenter: new Presenter(new OffscreenCanvas(r.width, r.height)), events, sends: true };
}

function errnoOf(e: unknown): number {
  if (isKernelError(e)) return ERRNO_OF[e.code] ?? Errno.IO;
  return Errno.IO;
}
