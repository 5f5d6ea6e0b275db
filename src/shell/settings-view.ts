/**
 * The Settings view: how much the origin stores and whether the browser may evict it (a person's
 * homes, modules and hibernated programs live there; `navigator.storage.persist()` asks to keep
 * them), and whether idle migratable programs are hibernated when the browser's memory slots run
 * out (`kernel.setAutoHibernate`, remembered by the shell and applied at each start).
 */
import { LitElement, html, nothing } from 'lit';
import type { KernelApi } from '../kernel';
import { formatBytes } from './format';

const AUTO_HIBERNATE = 'webmk-auto-hibernate';

/** Applies the remembered hibernation setting to `kernel` (the desktop calls it once attached). */
export function applyStoredSettings(kernel: KernelApi): void {
  if (localStorage.getItem(AUTO_HIBERNATE) === 'on') kernel.setAutoHibernate({ atWall: true });
}

/** `<webmk-settings-view>`: give it the kernel; `active` while shown (it reads the storage figures then). */
export class SettingsView extends LitElement {
  static override properties = {
    kernel: { attribute: false },
    active: { type: Boolean },
    storage: { state: true },
    error: { state: true },
  };

  declare kernel: KernelApi | undefined;
  declare active: boolean;
  declare storage: { usage: number; quota: number; persisted: boolean } | undefined;
  declare error: string | undefined;

  constructor() {
    super();
    this.kernel = undefined;
    this.active = false;
    this.storage = undefined;
    this.error = undefined;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('active') && this.active) void this.#read();
  }

  async #read(): Promise<void> {
    try {
      const [est, persisted] = await Promise.all([navigator.storage.estimate(), navigator.storage.persisted()]);
      this.storage = { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
    } catch (e) {
      this.error = `The browser does not tell how much is stored: ${String(e)}`;
    }
  }

  async #persist(): Promise<void> {
    const granted = await navigator.storage.persist().catch(() => false);
    this.error = granted ? undefined : 'The browser said no: it decides by how much this site is used (installing the app helps).';
    await this.#read();
  }

  #hibernation(e: Event): void {
    const on = (e.target as HTMLInputElement).checked;
    localStorage.setItem(AUTO_HIBERNATE, on ? 'on' : 'off');
    this.kernel?.setAutoHibernate(on ? { atWall: true } : null);
  }

  protected override render() {
    const s = this.storage;
    const hibernating = localStorage.getItem(AUTO_HIBERNATE) === 'on';
    return html`<h3>Storage</h3>
      ${s === undefined
        ? html`<p class="empty">Reading…</p>`
        : html`<p class="storage-use">This site stores ${formatBytes(s.usage)} of the ${formatBytes(s.quota)} the browser allows it.</p>
            <p class="storage-persisted" data-persisted=${s.persisted ? 'yes' : 'no'}>
              ${s.persisted
                ? 'Kept: the browser will not clear modules, homes and hibernated programs to make room.'
                : html`The browser may clear what is stored here when the disk runs low.
                    <button type="button" class="small" @click=${() => void this.#persist()}>Keep it</button>`}
            </p>`}
      ${this.error === undefined ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      <h3>Memory</h3>
      <label class="check">
        <input type="checkbox" id="auto-hibernate" .checked=${hibernating} @change=${(e: Event) => this.#hibernation(e)} />
        Hibernate idle migratable programs when the browser has no room for one more
      </label>
      <p class="hint">A browser holds about 125 live WebAssembly memories per process. With this on, starting one more hibernates the program that waited longest for input; typing to it wakes it.</p>`;
  }
}

customElements.define('webmk-settings-view', SettingsView);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-settings-view': SettingsView;
  }
}
