/**
 * Module windows: a layer of floating windows over the desktop, one per window the kernel's
 * graphics service holds. A window shows the canvas the module draws into from its worker
 * (scaled by CSS, aspect kept), forwards the person's input to the module in canvas pixels, and
 * can be moved (title bar, or arrow keys on it), resized (corner, or Shift+arrows), raised and
 * closed. The shell never draws on the canvas.
 */
import { LitElement, css, html, nothing, unsafeCSS, type CSSResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { EventType, GfxEvents, keyEvent, modsOf, plainEvent, wheelPixels, type GfxApi, type GfxEvent, type GfxWindowInfo } from '../gfx';
import type { KernelApi } from '../kernel';
import {
  clampRect,
  contentSize,
  devicePixels,
  initialRect,
  moveRect,
  resizeRect,
  toCanvasPixel,
  upscaled,
  TITLE_HEIGHT,
  type Rect,
  type Size,
} from './window-geometry';

/** Pixels an arrow key moves or resizes a window by (Shift+Alt: one pixel). */
const KEY_STEP = 16;

/** The graphics service of a kernel, or undefined for a kernel that runs without one. */
function gfxOf(kernel: KernelApi | undefined): GfxApi | undefined {
  try {
    return kernel?.gfx;
  } catch {
    return undefined;
  }
}

function viewport(): Size {
  return { width: window.innerWidth, height: window.innerHeight };
}

/** One module window. The layer gives it the window, its stacking order and the service. */
export class GfxWindow extends LitElement {
  static override properties = {
    win: { attribute: false },
    gfx: { attribute: false },
    index: { type: Number },
    z: { type: Number },
    _rect: { state: true },
  };

  declare win: GfxWindowInfo | undefined;
  declare gfx: GfxApi | undefined;
  /** Its place in the cascade of new windows. */
  declare index: number;
  declare z: number;
  declare _rect: Rect | undefined;

  #wired: HTMLCanvasElement | undefined;
  #unwire = new AbortController();
  #drag: { pointer: number; x: number; y: number; start: Rect; mode: 'move' | 'resize' } | undefined;
  #onViewport = (): void => {
    if (this._rect !== undefined) this._rect = clampRect(this._rect, viewport());
  };

  constructor() {
    super();
    this.win = undefined;
    this.gfx = undefined;
    this.index = 0;
    this.z = 0;
    this._rect = undefined;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('resize', this.#onViewport);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('resize', this.#onViewport);
  }

  /** Gives the keyboard to the module. */
  focusCanvas(): void {
    this.win?.canvas.focus({ preventScroll: true });
  }

  protected override willUpdate(): void {
    const win = this.win;
    if (win !== undefined && this._rect === undefined) this._rect = initialRect(win, viewport(), this.index);
    if (win !== undefined && this.#wired !== win.canvas) this.#wire(win.canvas);
  }

  protected override render() {
    const win = this.win;
    const r = this._rect;
    if (win === undefined || r === undefined) return nothing;
    const label = `${win.name}, pid ${win.pid}`;
    const box = contentSize(r);
    const crisp = upscaled(box, win, window.devicePixelRatio || 1);
    this.style.cssText = `left:${r.x}px;top:${r.y}px;width:${r.width}px;height:${r.height}px;z-index:${this.z}`;
    win.canvas.classList.toggle('crisp', crisp);
    return html`<section class="gfx-window" aria-label=${`Window: ${label}`} @pointerdown=${this.#raise}>
      <header
        class="gfx-bar"
        tabindex="0"
        aria-label=${`${label}. Arrow keys move the window, Shift and arrow keys resize it.`}
        @pointerdown=${(e: PointerEvent) => this.#dragStart(e, 'move')}
        @pointermove=${this.#dragMove}
        @pointerup=${this.#dragEnd}
        @pointercancel=${this.#dragEnd}
        @keydown=${this.#barKey}
      >
        <span class="gfx-title">${win.name}</span>
        <span class="gfx-meta">pid ${win.pid} · ${win.width}×${win.height}</span>
        <button
          type="button"
          class="icon close"
          aria-label=${`Close window ${label}${win.detach ? '' : ' (ends the module)'}`}
          title=${win.detach ? 'Close (the module keeps running)' : 'Close (ends the module)'}
          @pointerdown=${(e: Event) => e.stopPropagation()}
          @click=${this.#close}
        >
          <span aria-hidden="true">✕</span>
        </button>
      </header>
      <div class="gfx-body">${win.canvas}</div>
      <div
        class="gfx-grip"
        aria-hidden="true"
        @pointerdown=${(e: PointerEvent) => this.#dragStart(e, 'resize')}
        @pointermove=${this.#dragMove}
        @pointerup=${this.#dragEnd}
        @pointercancel=${this.#dragEnd}
      ></div>
    </section>`;
  }

  #send(e: GfxEvent): void {
    if (this.win !== undefined) this.gfx?.input(this.win.id, e);
  }

  #raise = (): void => {
    if (this.win !== undefined) this.dispatchEvent(new CustomEvent('webmk-gfx-raise', { detail: { id: this.win.id }, bubbles: true }));
  };

  #close = (): void => {
    if (this.win !== undefined) void this.gfx?.close(this.win.id);
  };

  /** Listens to the canvas: pointer, wheel, keys and focus go to the module. */
  #wire(canvas: HTMLCanvasElement): void {
    this.#unwire.abort();
    this.#unwire = new AbortController();
    this.#wired = canvas;
    const opts = { signal: this.#unwire.signal };
    canvas.tabIndex = 0;
    canvas.classList.add('gfx-canvas');
    canvas.setAttribute('aria-label', `Canvas of ${this.win?.name ?? 'a module'}: it receives keys and pointer input`);
    canvas.addEventListener('pointerdown', (e) => this.#pointer(e, EventType.pointerDown), opts);
    canvas.addEventListener('pointermove', (e) => this.#pointer(e, EventType.pointerMove), opts);
    canvas.addEventListener('pointerup', (e) => this.#pointer(e, EventType.pointerUp), opts);
    canvas.addEventListener('pointercancel', (e) => this.#pointer(e, EventType.pointerUp), opts);
    canvas.addEventListener('wheel', (e) => this.#wheel(e), { ...opts, passive: false });
    canvas.addEventListener('contextmenu', (e) => e.preventDefault(), opts);
    canvas.addEventListener('keydown', (e) => this.#key(e, true), opts);
    canvas.addEventListener('keyup', (e) => this.#key(e, false), opts);
    canvas.addEventListener('focus', () => this.#send(plainEvent(EventType.focus)), opts);
    canvas.addEventListener('blur', () => this.#send(plainEvent(EventType.blur)), opts);
  }

  #at(e: MouseEvent): { x: number; y: number } | undefined {
    const win = this.win;
    if (win === undefined) return undefined;
    const b = win.canvas.getBoundingClientRect();
    return toCanvasPixel({ x: e.clientX - b.left, y: e.clientY - b.top }, b, win);
  }

  #pointer(e: PointerEvent, type: GfxEvent['type']): void {
    const canvas = this.win?.canvas;
    const p = this.#at(e);
    if (canvas === undefined || p === undefined) return;
    if (type === EventType.pointerDown) {
      e.preventDefault(); // no text selection, no native drag; focus is given below
      canvas.focus({ preventScroll: true });
      canvas.setPointerCapture(e.pointerId);
    }
    const button = type === EventType.pointerMove ? e.buttons : Math.max(0, e.button);
    this.#send({ type, x: p.x, y: p.y, button, key: 0, mods: modsOf(e) });
  }

  #wheel(e: WheelEvent): void {
    const win = this.win;
    if (win === undefined) return;
    e.preventDefault();
    const d = wheelPixels(e.deltaX, e.deltaY, e.deltaMode, win.height);
    this.#send({ type: EventType.wheel, x: d.x, y: d.y, button: 0, key: 0, mods: modsOf(e) });
  }

  #key(e: KeyboardEvent, down: boolean): void {
    // Tab leaves the window, so the page stays usable from the keyboard.
    if (e.key === 'Tab' && !e.ctrlKey && !e.altKey && !e.metaKey) return;
    e.preventDefault();
    e.stopPropagation();
    this.#send(keyEvent(down, e));
  }

  #dragStart(e: PointerEvent, mode: 'move' | 'resize'): void {
    if (e.button !== 0 || this._rect === undefined) return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    if (mode === 'move') (e.currentTarget as HTMLElement).focus({ preventScroll: true });
    this.#drag = { pointer: e.pointerId, x: e.clientX, y: e.clientY, start: this._rect, mode };
  }

  #dragMove = (e: PointerEvent): void => {
    const d = this.#drag;
    if (d === undefined || d.pointer !== e.pointerId) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    this._rect = d.mode === 'move' ? moveRect(d.start, dx, dy, viewport()) : resizeRect(d.start, dx, dy);
  };

  #dragEnd = (e: PointerEvent): void => {
    const d = this.#drag;
    if (d === undefined || d.pointer !== e.pointerId) return;
    this.#drag = undefined;
    if (d.mode === 'resize') this.#resized();
  };

  #barKey = (e: KeyboardEvent): void => {
    const r = this._rect;
    const dir: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const v = dir[e.key];
    if (r === undefined || v === undefined) return;
    e.preventDefault();
    const step = e.altKey ? 1 : KEY_STEP;
    if (e.shiftKey) {
      this._rect = resizeRect(r, v[0] * step, v[1] * step);
      this.#resized();
    } else {
      this._rect = moveRect(r, v[0] * step, v[1] * step, viewport());
    }
  };

  /** Tells the module the size it is shown at, so it can follow it if it wants. */
  #resized(): void {
    if (this._rect === undefined) return;
    const d = devicePixels(contentSize(this._rect), window.devicePixelRatio || 1);
    this.#send(plainEvent(EventType.resize, d.width, d.height));
  }
}

/** The layer of module windows over the desktop; it follows the kernel's `windows` event. */
export class GfxLayer extends LitElement {
  static override properties = {
    kernel: { attribute: false },
    _windows: { state: true },
    _order: { state: true },
  };

  declare kernel: KernelApi | undefined;
  declare _windows: GfxWindowInfo[];
  /** Window ids bottom to top. */
  declare _order: number[];

  #listening: KernelApi | undefined;
  #opened = 0;
  #cascade = new Map<number, number>();
  #toFocus: number | undefined;
  #refresh = (): void => {
    const wins = gfxOf(this.kernel)?.windows() ?? [];
    const ids = new Set(wins.map((w) => w.id));
    const fresh = wins.filter((w) => !this.#cascade.has(w.id));
    for (const w of fresh) this.#cascade.set(w.id, this.#opened++);
    for (const id of [...this.#cascade.keys()]) if (!ids.has(id)) this.#cascade.delete(id);
    this._order = [...this._order.filter((id) => ids.has(id)), ...fresh.map((w) => w.id)];
    this._windows = wins;
    const newest = fresh.at(-1);
    if (newest !== undefined) this.#toFocus = newest.id;
  };

  constructor() {
    super();
    this.kernel = undefined;
    this._windows = [];
    this._order = [];
    this.addEventListener('webmk-gfx-raise', (e) => this.#raise(e.detail.id));
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    adoptStyles();
    this.#listen();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#listening?.removeEventListener(GfxEvents.windows, this.#refresh);
    this.#listening = undefined;
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('kernel')) this.#listen();
  }

  #listen(): void {
    if (this.#listening === this.kernel || !this.isConnected) return;
    this.#listening?.removeEventListener(GfxEvents.windows, this.#refresh);
    this.#listening = this.kernel;
    this.kernel?.addEventListener(GfxEvents.windows, this.#refresh);
    this.#refresh();
  }

  #raise(id: number): void {
    if (this._order.at(-1) === id) return;
    this._order = [...this._order.filter((x) => x !== id), id];
  }

  protected override render() {
    const gfx = gfxOf(this.kernel);
    return repeat(
      this._windows,
      (w) => w.id,
      (w) =>
        html`<webmk-gfx-window
          data-window=${w.id}
          data-pid=${w.pid}
          data-name=${w.name}
          .win=${w}
          .gfx=${gfx}
          .index=${this.#cascade.get(w.id) ?? 0}
          .z=${this._order.indexOf(w.id) + 1}
        ></webmk-gfx-window>`,
    );
  }

  protected override updated(): void {
    const id = this.#toFocus;
    if (id === undefined) return;
    this.#toFocus = undefined;
    void customElements.whenDefined('webmk-gfx-window').then(() => {
      const el = this.querySelector<GfxWindow>(`webmk-gfx-window[data-window="${id}"]`);
      void el?.updateComplete.then(() => el.focusCanvas());
    });
  }
}

const STYLES: CSSResult = css`
  webmk-gfx-layer {
    position: fixed;
    inset: 0;
    z-index: 10;
    pointer-events: none;
  }
  webmk-gfx-window {
    position: absolute;
    pointer-events: auto;
    display: block;
  }
  webmk-gfx-window .gfx-window {
    display: flex;
    flex-direction: column;
    width: 100%;
    height: 100%;
    /* A ring, not a border: the content area is exactly what window-geometry.ts computes. */
    border-radius: 8px;
    overflow: hidden;
    background: #000;
    box-shadow: 0 0 0 1px var(--border, #2a3039), 0 10px 30px rgb(0 0 0 / 0.35);
  }
  webmk-gfx-window .gfx-window:focus-within {
    box-shadow: 0 0 0 2px var(--focus, #8db4ff), 0 10px 30px rgb(0 0 0 / 0.35);
  }
  webmk-gfx-window .gfx-bar {
    flex: none;
    box-sizing: border-box;
    height: ${unsafeCSS(TITLE_HEIGHT)}px;
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0 0.25rem 0 0.7rem;
    background: var(--surface-2, #1d222a);
    border-bottom: 1px solid var(--border, #2a3039);
    font-size: 0.85rem;
    cursor: move;
    user-select: none;
    touch-action: none;
  }
  webmk-gfx-window .gfx-bar:focus-visible {
    outline: 2px solid var(--focus, #8db4ff);
    outline-offset: -2px;
  }
  webmk-gfx-window .gfx-title {
    font-family: var(--mono, monospace);
    font-weight: 650;
    white-space: nowrap;
  }
  webmk-gfx-window .gfx-meta {
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    color: var(--muted, #98a2ae);
  }
  webmk-gfx-window .gfx-bar button.close {
    cursor: pointer;
  }
  webmk-gfx-window .gfx-body {
    flex: 1;
    min-height: 0;
    position: relative;
  }
  webmk-gfx-window canvas.gfx-canvas {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: contain;
    touch-action: none;
    outline: none;
    cursor: crosshair;
  }
  webmk-gfx-window canvas.gfx-canvas.crisp {
    image-rendering: pixelated;
  }
  webmk-gfx-window .gfx-grip {
    position: absolute;
    right: 0;
    bottom: 0;
    width: 18px;
    height: 18px;
    cursor: nwse-resize;
    touch-action: none;
    background: linear-gradient(135deg, transparent 50%, rgb(255 255 255 / 0.45) 50% 60%, transparent 60% 70%, rgb(255 255 255 / 0.45) 70% 80%, transparent 80%);
  }
`;

let adopted = false;
/** The windows' rules, added to the document once (the shell renders into the light DOM). */
function adoptStyles(): void {
  if (adopted || STYLES.styleSheet === undefined) return;
  adopted = true;
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, STYLES.styleSheet];
}

customElements.define('webmk-gfx-window', GfxWindow);
customElements.define('webmk-gfx-layer', GfxLayer);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-gfx-window': GfxWindow;
    'webmk-gfx-layer': GfxLayer;
  }
  interface HTMLElementEventMap {
    'webmk-gfx-raise': CustomEvent<{ id: number }>;
  }
}
