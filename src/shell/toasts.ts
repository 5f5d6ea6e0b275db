/** Status messages: successes fade after a while, errors stay until dismissed. */
import { html, type ReactiveController, type ReactiveControllerHost } from 'lit';

export type ToastKind = 'ok' | 'error' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

const KEEP = 5;
const FADE_MS = 6000;

/** Holds the messages of one host element and re-renders it when they change. */
export class Toasts implements ReactiveController {
  items: Toast[] = [];
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();
  readonly #host: ReactiveControllerHost;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostDisconnected(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  /** Shows a message; all but errors go away by themselves. */
  show(kind: ToastKind, text: string): void {
    const toast = { id: this.#next++, kind, text };
    const dropped = this.items.slice(0, Math.max(0, this.items.length - KEEP + 1));
    for (const t of dropped) this.#clearTimer(t.id);
    this.items = [...this.items.slice(dropped.length), toast];
    if (kind !== 'error') this.#timers.set(toast.id, setTimeout(() => this.dismiss(toast.id), FADE_MS));
    this.#host.requestUpdate();
  }

  dismiss(id: number): void {
    this.#clearTimer(id);
    this.items = this.items.filter((t) => t.id !== id);
    this.#host.requestUpdate();
  }

  #clearTimer(id: number): void {
    const t = this.#timers.get(id);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(id);
  }

  /** The live region; it is always in the page so screen readers announce what is added. */
  render() {
    return html`<div class="toasts" role="status" aria-live="polite" aria-relevant="additions">
      ${this.items.map(
        (t) => html`<div class="toast ${t.kind}" data-kind=${t.kind}>
          <span class="toast-text">${t.text}</span>
          <button type="button" class="icon" aria-label="Dismiss message" @click=${() => this.dismiss(t.id)}>
            <span aria-hidden="true">✕</span>
          </button>
        </div>`,
      )}
    </div>`;
  }
}
