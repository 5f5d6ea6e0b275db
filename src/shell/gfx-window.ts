/**
 * One module window, floating in the layer over the desktop. It shows the canvas the module draws
 * into from its worker (scaled by CSS, aspect kept), passes the person's input on to the module
 * (gfx-input.ts), and can be moved (title bar, or arrow keys on it), resized (corner, or
 * Shift+arrows), raised and closed. The shell never draws on the canvas.
 */
import { LitElement, html, nothing } from 'lit';
import { EventType, plainEvent, type GfxApi, type GfxEvent, type GfxWindowInfo } from '../gfx';
import { forwardInput } from './gfx-input';
import {
  clampRect,
  contentSize,
  devicePixels,
  initialRect,
  moveRect,
  resizeRect,
  upscaled,
  type Rect,
  type Size,
} from './window-geometry';

/** Pixels an arrow key moves or resizes a window by (Shift+Alt: one pixel). */
const KEY_STEP = 16;

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
        <span class="gfx-meta"
          >pid ${win.pid}${win.asleep === true
            ? html` · <span class="gfx-asleep" title="Hibernated: it shows its last frame. A click, a key or the wheel here resumes it.">asleep</span>`
            : nothing} · ${win.width}×${win.height}${win.node !== undefined
            ? html` · <span class="gfx-node" title=${`It runs on node ${win.node}: its frames come over the link, input goes back`}>on ${win.node.slice(0, 8)}</span>`
            : nothing}</span
        >
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

  /** Gives the canvas its place in the page and passes its input on to the module. */
  #wire(canvas: HTMLCanvasElement): void {
    this.#unwire.abort();
    this.#unwire = new AbortController();
    this.#wired = canvas;
    canvas.tabIndex = 0;
    canvas.classList.add('gfx-canvas');
    canvas.setAttribute('aria-label', `Canvas of ${this.win?.name ?? 'a module'}: it receives keys and pointer input`);
    forwardInput(canvas, () => this.win, (e) => this.#send(e), this.#unwire.signal);
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

customElements.define('webmk-gfx-window', GfxWindow);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-gfx-window': GfxWindow;
  }
  interface HTMLElementEventMap {
    'webmk-gfx-raise': CustomEvent<{ id: number }>;
  }
}
