/**
 * The graphics service, page side: windows and their canvases. A module's window is a `<canvas>`
 * whose drawing surface is transferred to the module's worker as an OffscreenCanvas, so the
 * page's main thread never touches a pixel; input reaches the module through a shared ring it
 * polls without blocking. The shell shows `windows()` and feeds `input()`.
 */
import type { Caller, CapabilityHost, KernelCapability, ParkedProcess } from '../capability';
import { KernelError, sharesMemory, type ModuleInfo } from '../common';
import {
  EVENT_CAPACITY,
  EVENT_WORDS,
  EventRing,
  EventType,
  GfxCall,
  MAX_WINDOWS,
  allocateEventRing,
  validSize,
  type GfxEvent,
  type OpenReply,
} from '../ipc';
import { plainEvent } from './input';
import { canvasRequest, type CanvasRequest } from './manifest';
import { Outgoing, decodeFrame, type ShownWindow, type WindowShare, type WindowSink } from './remote';

/** Events the service dispatches on the kernel. */
export const GfxEvents = {
  /** A window opened, closed, or changed size. */
  windows: 'windows',
} as const;

/** A window as the shell sees it. */
export interface GfxWindowInfo {
  id: number;
  pid: number;
  /** The module's name (the title). */
  name: string;
  /** The canvas size in pixels (its CSS size is the shell's business). */
  width: number;
  height: number;
  /** Closing detaches the module instead of ending it (its manifest says `"detach": true`). */
  detach: boolean;
  /** `waiting` while the module has not taken its canvas yet (opened at spawn), then `live`. */
  state: 'waiting' | 'live';
  /** The element that shows the module's frames: place it, size it with CSS, never draw on it. */
  canvas: HTMLCanvasElement;
  /** The node its process runs on, for a window shown here of a process on another node. */
  node?: string;
  /** Its process is hibernated: the window shows its last frame; a press, a key or the wheel resumes it. */
  asleep?: boolean;
}

/** `kernel.gfx`: the windows modules draw into. */
export interface GfxApi {
  /** Every open window, oldest first. */
  windows(): GfxWindowInfo[];
  /**
   * Queues an input event for the window's module. Returns false for an unknown window or when
   * its queue is full (the module has not polled for a while): the event is dropped.
   */
  input(id: number, event: GfxEvent): boolean;
  /**
   * Closes a window: ends its module (settles once the process is gone), or, for a detachable
   * window, tells the module (a `close` event) and lets it run on. Unknown ids are ignored.
   */
  close(id: number): Promise<void>;
  /**
   * Remote mode, on the node that runs process `pid` for another: its window's frames go to
   * `sink` (PNG, one at a time) and the other node's input comes back through the share.
   */
  share(pid: number, sink: WindowSink): WindowShare;
  /** Remote mode, on the spawning node: a window here for process `pid` that runs on `node`; its input goes to `input`. */
  show(pid: number, node: string, width: number, height: number, input: (event: number[]) => void): ShownWindow;
}

interface Win extends GfxWindowInfo {
  ring: EventRing;
  /** Its canvas was given away or shows a still frame: the next open gives it a fresh one. */
  spent?: boolean;
  /** Set when the module sends frames (it could not be given the canvas): what shows them. */
  renderer?: ImageBitmapRenderingContext;
  /** A window of a process on another node: its input goes there. */
  forward?: (event: number[]) => void;
}

/** The graphics service (`kernel.gfx`). */
export function gfxService(): KernelCapability<GfxApi> {
  return { name: 'gfx', start: (host: CapabilityHost) => new Windows(host).api() };
}

class Windows {
  private readonly wins = new Map<number, Win>();
  private nextId = 1;
  /** The canvas the manifest asks for, of processes that could not be given one at spawn. */
  private readonly manifestCanvas = new Map<number, CanvasRequest>();
  /** Windows of processes run here for another node, by pid: their frames go there. */
  private readonly outgoing = new Map<number, Outgoing>();

  constructor(private readonly host: CapabilityHost) {
    host.calls.handle(GfxCall.open, (caller, args) => this.open(caller, args));
    host.calls.handle(GfxCall.resized, (caller, args) => this.resized(caller, args));
    host.calls.handle(GfxCall.close, (caller, args) => this.guestClose(caller, args));
    host.calls.handle(GfxCall.frame, (caller, args) => this.frame(caller, args));
    // A window's surface belongs to the worker that ended: a restarted module opens a new one.
    host.onEnd((p) => {
      this.manifestCanvas.delete(p.pid);
      this.drop((w) => w.pid === p.pid);
      this.outgoing.get(p.pid)?.stop();
      this.outgoing.delete(p.pid);
    });
    host.onSpawn((pid, info) => this.spawned(pid, info));
    host.onPark((pid, parked) => this.parked(pid, parked));
    host.resources('gfx', () => ({ windows: this.wins.size, canvasesAsked: this.manifestCanvas.size }));
  }

  api(): GfxApi {
    return {
      windows: () =>
        [...this.wins.values()].map(({ ring: _ring, renderer: _renderer, forward, spent: _spent, ...w }) => ({
          ...w,
          ...(forward === undefined && this.host.process(w.pid)?.state === 'hibernated' ? { asleep: true } : {}),
        })),
      input: (id, event) => this.input(id, event),
      close: (id) => this.close(id),
      share: (pid, sink) => this.share(pid, sink),
      show: (pid, node, width, height, input) => this.show(pid, node, width, height, input),
    };
  }

  /** A manifest that asks for a canvas gets its window now, before the module runs. */
  private spawned(pid: number, info: ModuleInfo): void {
    const req = canvasRequest(info.manifest);
    if (req === undefined || this.wins.size >= MAX_WINDOWS) return;
    // A canvas cannot be handed to a process in another agent cluster (the iframe mode): no
    // window waits for one that could never take it.
    const mode = this.host.process(pid)?.mode;
    if (mode !== undefined && !sharesMemory(mode)) {
      this.manifestCanvas.set(pid, req);
      return;
    }
    this.create(pid, info.name, req.width, req.height, req.detach);
  }

  /**
   * A process parked (moved, or hibernated) with its window: the canvas went with its old host,
   * so the window shows the last frame it presented, read from its memory, on a canvas of its
   * own, until the process opens it again from its next host (ADR 0034).
   */
  private parked(pid: number, parked: ParkedProcess): void {
    const still = stillFrame(parked);
    const wins = [...this.wins.values()].filter((w) => w.pid === pid && w.forward === undefined && w.state === 'live');
    const open = (parked.providers.gfx as { open?: unknown } | undefined)?.open === true;
    if (parked.restored === true && open && wins.length === 0 && this.wins.size < MAX_WINDOWS) {
      // Hibernated before a reload with its window open: the window comes back, waiting for it.
      wins.push(this.create(pid, parked.info.name, still?.width ?? 1, still?.height ?? 1, canvasRequest(parked.info.manifest)?.detach ?? false));
    }
    for (const win of wins) {
      const canvas = windowCanvas(win.id, still?.width ?? win.width, still?.height ?? win.height);
      if (still !== undefined) canvas.getContext('2d')?.putImageData(still, 0, 0);
      win.canvas = canvas;
      win.width = canvas.width;
      win.height = canvas.height;
      win.state = 'waiting';
      win.spent = true;
      delete win.renderer;
    }
    if (wins.length > 0) this.host.emit(GfxEvents.windows);
  }

  private create(pid: number, name: string, width: number, height: number, detach: boolean, remote?: { node: string; forward: (event: number[]) => void }): Win {
    const id = this.nextId++;
    const canvas = windowCanvas(id, width, height);
    const ring = new EventRing(allocateEventRing(EVENT_CAPACITY, EVENT_WORDS));
    const win: Win = { id, pid, name, width, height, detach, state: 'waiting', canvas, ring, ...remote };
    this.wins.set(id, win);
    this.host.emit(GfxEvents.windows);
    return win;
  }

  private open(caller: Caller, args: unknown): { value: OpenReply; transfer: Transferable[] } {
    const { width, height } = sizeArgs(args, true);
    // A call that raced the process's end must not leave a window nobody will close.
    const row = this.host.process(caller.pid);
    if (row === undefined || row.state === 'exited') {
      throw new KernelError('gfx/no-window', `process ${caller.pid} is not running`, { pid: caller.pid });
    }
    let win = [...this.wins.values()].find((w) => w.pid === caller.pid);
    if (win?.state === 'live') throw new KernelError('gfx/busy', `process ${caller.pid} has a window already`, { pid: caller.pid });
    if (win === undefined) {
      // A process that could not take a canvas at spawn opens its manifest's window now.
      const asked = this.manifestCanvas.get(caller.pid);
      if (width === 0 && asked === undefined) throw new KernelError('gfx/bad-size', 'a size of 0 x 0 needs a canvas size in the manifest');
      if (this.wins.size >= MAX_WINDOWS) throw new KernelError('gfx/limit', `${MAX_WINDOWS} windows are open already`);
      win =
        width === 0 && asked !== undefined
          ? this.create(caller.pid, caller.name, asked.width, asked.height, asked.detach)
          : this.create(caller.pid, caller.name, width, height, asked?.detach ?? false);
    } else if (width !== 0) {
      win.width = width;
      win.height = height;
    }
    if (win.spent === true) {
      // Reopened by a process moved or resumed: its old canvas cannot be given away again.
      win.canvas = windowCanvas(win.id, win.width, win.height);
      win.spent = false;
    }
    win.canvas.width = win.width;
    win.canvas.height = win.height;
    win.state = 'live';
    this.host.emit(GfxEvents.windows);
    // Run here for another node (listed with that node): its frames are sent there.
    const elsewhere = row.node !== undefined && row.mode !== 'remote';
    if (elsewhere) {
      const out = this.outgoingOf(caller.pid);
      out.sink?.open(win.width, win.height);
    }
    if (elsewhere || !sharesMemory(row.mode)) {
      // Never transfer this canvas out of the agent cluster (it would crash a renderer): the
      // module draws on its own and sends frames, shown here as they come.
      const renderer = win.canvas.getContext('bitmaprenderer');
      if (renderer === null) throw new KernelError('gfx/busy', `window ${win.id} has no bitmap renderer`);
      win.renderer = renderer;
      win.spent = true;
      return { value: { id: win.id, width: win.width, height: win.height, events: win.ring.sab, ...(elsewhere ? { frames: true as const } : {}) }, transfer: [] };
    }
    const offscreen = win.canvas.transferControlToOffscreen();
    win.spent = true;
    const value: OpenReply = { id: win.id, width: win.width, height: win.height, canvas: offscreen, events: win.ring.sab };
    return { value, transfer: [offscreen] };
  }

  /** A frame sent by a module that draws on its own canvas: the window takes its size and shows it. */
  private frame(caller: Caller, args: unknown): { value: null } {
    const win = this.own(caller, args);
    const bitmap = (args as { bitmap?: unknown }).bitmap;
    if (!(bitmap instanceof ImageBitmap) || win.renderer === undefined || !validSize(bitmap.width, bitmap.height)) {
      if (bitmap instanceof ImageBitmap) bitmap.close();
      throw new KernelError('gfx/bad-size', 'gfx.frame takes an ImageBitmap of a valid size for a window that shows frames');
    }
    if (win.canvas.width !== bitmap.width || win.canvas.height !== bitmap.height) {
      win.canvas.width = win.width = bitmap.width;
      win.canvas.height = win.height = bitmap.height;
      this.host.emit(GfxEvents.windows);
    }
    const out = this.outgoing.get(caller.pid);
    if (out !== undefined) out.offer(bitmap);
    else win.renderer.transferFromImageBitmap(bitmap);
    return { value: null };
  }

  /** The outgoing frames of process `pid` (made on first use): shown here as they are sent. */
  private outgoingOf(pid: number): Outgoing {
    let out = this.outgoing.get(pid);
    if (out === undefined) {
      out = new Outgoing((bitmap) => {
        const win = [...this.wins.values()].find((w) => w.pid === pid);
        if (win?.renderer !== undefined) win.renderer.transferFromImageBitmap(bitmap);
        else bitmap.close();
      });
      this.outgoing.set(pid, out);
    }
    return out;
  }

  private share(pid: number, sink: WindowSink): WindowShare {
    const out = this.outgoingOf(pid);
    out.sink = sink;
    const win = [...this.wins.values()].find((w) => w.pid === pid && w.state === 'live');
    if (win !== undefined) sink.open(win.width, win.height);
    void out.pump();
    return {
      input: (event) => {
        const w = [...this.wins.values()].find((x) => x.pid === pid);
        return w?.ring.push(event) ?? false;
      },
      stop: () => {
        out.stop();
        if (this.outgoing.get(pid) === out) this.outgoing.delete(pid);
      },
    };
  }

  private show(pid: number, node: string, width: number, height: number, input: (event: number[]) => void): ShownWindow {
    if (!validSize(width, height)) throw new KernelError('gfx/bad-size', `not a canvas size: ${width} x ${height}`);
    if (this.wins.size >= MAX_WINDOWS) throw new KernelError('gfx/limit', `${MAX_WINDOWS} windows are open already`);
    const name = this.host.process(pid)?.name ?? `pid ${pid}`;
    // A process moved to that node with its window open: the window it had here shows its frames.
    const kept = [...this.wins.values()].find((w) => w.pid === pid && w.state === 'waiting' && w.spent === true && w.forward === undefined);
    const win = kept ?? this.create(pid, name, width, height, false, { node, forward: input });
    if (kept !== undefined) {
      kept.canvas = windowCanvas(kept.id, width, height);
      kept.width = width;
      kept.height = height;
      kept.node = node;
      kept.forward = input;
      kept.spent = false;
    }
    const renderer = win.canvas.getContext('bitmaprenderer');
    if (renderer !== null) win.renderer = renderer;
    win.state = 'live';
    this.host.emit(GfxEvents.windows);
    return {
      frame: async (png, w, h) => {
        const bitmap = await decodeFrame(png);
        if (bitmap === undefined) return;
        if (this.wins.get(win.id) !== win || win.renderer === undefined || bitmap.width !== w || bitmap.height !== h || !validSize(w, h)) {
          bitmap.close();
          return;
        }
        if (win.canvas.width !== w || win.canvas.height !== h) {
          win.canvas.width = win.width = w;
          win.canvas.height = win.height = h;
          this.host.emit(GfxEvents.windows);
        }
        win.renderer.transferFromImageBitmap(bitmap);
      },
      close: () => this.drop((w) => w === win),
    };
  }

  private input(id: number, event: GfxEvent): boolean {
    const win = this.wins.get(id);
    if (win === undefined) return false;
    if (win.forward === undefined) {
      const queued = win.ring.push(eventWords(event));
      // What the person does to a hibernated process's window resumes it; it finds the event
      // queued. Focus, hovering and resizing are queued only: a window that merely shows does not.
      if (WAKING.has(event.type) && this.host.process(win.pid)?.state === 'hibernated') this.host.wake(win.pid);
      return queued;
    }
    win.forward(eventWords(event));
    return true;
  }

  private resized(caller: Caller, args: unknown): { value: null } {
    const win = this.own(caller, args);
    const { width, height } = sizeArgs(args, false);
    if (win.width !== width || win.height !== height) {
      win.width = width;
      win.height = height;
      this.host.emit(GfxEvents.windows);
    }
    return { value: null };
  }

  private guestClose(caller: Caller, args: unknown): { value: null } {
    const win = this.own(caller, args);
    this.drop((w) => w === win);
    return { value: null };
  }

  /** The caller's own window named in `args.id`; anything else is refused. */
  private own(caller: Caller, args: unknown): Win {
    const id = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).id : undefined;
    const win = typeof id === 'number' ? this.wins.get(id) : undefined;
    if (win === undefined || win.pid !== caller.pid) throw new KernelError('gfx/no-window', 'no such window of this process', { id: String(id) });
    return win;
  }

  private async close(id: number): Promise<void> {
    const win = this.wins.get(id);
    if (win === undefined) return;
    if (!win.detach) {
      await this.host.kill(win.pid).catch(() => {});
      this.drop((w) => w === win); // in case the process had ended already
      return;
    }
    win.ring.push(eventWords(plainEvent(EventType.close)));
    this.drop((w) => w === win);
  }

  private drop(which: (w: Win) => boolean): void {
    let changed = false;
    for (const w of [...this.wins.values()]) {
      if (!which(w)) continue;
      w.ring.close();
      this.wins.delete(w.id);
      this.outgoing.get(w.pid)?.sink?.close();
      changed = true;
    }
    if (changed) this.host.emit(GfxEvents.windows);
  }
}

/** The events that resume a hibernated process: a press, a key, a turn of the wheel. */
const WAKING: ReadonlySet<number> = new Set([EventType.pointerDown, EventType.keyDown, EventType.wheel]);

/** A window's `<canvas>` of `width` x `height` pixels. */
function windowCanvas(id: number, width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.dataset.window = String(id);
  return canvas;
}

/** The last frame a parked process presented, from its memory; undefined if it kept none that fits. */
function stillFrame(parked: ParkedProcess): ImageData | undefined {
  const kept = parked.providers.gfx as { frame?: { ptr?: unknown; width?: unknown; height?: unknown } } | undefined;
  const f = kept?.frame;
  if (f === undefined || typeof f.ptr !== 'number' || typeof f.width !== 'number' || typeof f.height !== 'number' || !validSize(f.width, f.height)) return undefined;
  const bytes = f.width * f.height * 4;
  if (f.ptr < 0 || f.ptr + bytes > parked.memory.byteLength) return undefined;
  const rgba = new Uint8ClampedArray(bytes);
  rgba.set(parked.memory.subarray(f.ptr, f.ptr + bytes));
  return new ImageData(rgba, f.width, f.height);
}

function eventWords(e: GfxEvent): number[] {
  return [e.type, e.x, e.y, e.button, e.key, e.mods];
}

/** `{ width, height }` from a guest: a valid size, or 0 x 0 where `zero` allows it. */
function sizeArgs(args: unknown, zero: boolean): { width: number; height: number } {
  const a = typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {};
  const { width, height } = a;
  if (typeof width === 'number' && typeof height === 'number') {
    if (zero && width === 0 && height === 0) return { width: 0, height: 0 };
    if (validSize(width, height)) return { width, height };
  }
  throw new KernelError('gfx/bad-size', `not a canvas size: ${String(width)} x ${String(height)}`, { width: String(width), height: String(height) });
}
