/**
 * The layer of module windows over the desktop: one window per window the kernel's graphics
 * service holds, stacked in the order the person raised them, new ones cascaded and focused.
 */
import { LitElement, html } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { GfxEvents, type GfxApi, type GfxWindowInfo } from '../gfx';
import type { KernelApi } from '../kernel';
import type { GfxWindow } from './gfx-window';
import { adoptGfxStyles } from './gfx-window-styles';
import './gfx-window';

/** The graphics service of a kernel, or undefined for a kernel that runs without one. */
function gfxOf(kernel: KernelApi | undefined): GfxApi | undefined {
  try {
    return kernel?.gfx;
  } catch {
    return undefined;
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
  /** A frame is awaited to give `#toFocus` the keyboard. */
  #focusing = false;
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
    adoptGfxStyles();
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
    if (this.#toFocus === undefined || this.#focusing) return;
    // At the next frame, and only the newest: windows opening in a burst (twenty modules started
    // at once) give the keyboard once, not once each (a focus costs the page a layout).
    this.#focusing = true;
    requestAnimationFrame(() => {
      this.#focusing = false;
      const id = this.#toFocus;
      this.#toFocus = undefined;
      if (id === undefined) return;
      void customElements.whenDefined('webmk-gfx-window').then(() => {
        const el = this.querySelector<GfxWindow>(`webmk-gfx-window[data-window="${id}"]`);
        void el?.updateComplete.then(() => el.focusCanvas());
      });
    });
  }
}

customElements.define('webmk-gfx-layer', GfxLayer);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-gfx-layer': GfxLayer;
  }
}
