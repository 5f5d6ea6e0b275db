/**
 * The permissions dialog: what a module asks for beyond WASI, one checkbox each, nothing checked
 * at install (deny by default). It only asks; the desktop calls `kernel.grant` with the answer.
 */
import { LitElement, html, nothing } from 'lit';
import { describePermission, grantList, type ModuleInfo } from '../kernel';
import { emit } from './events';

/** A question for the person: at install, or to change what a module was granted. */
export interface GrantPrompt {
  module: ModuleInfo;
  reason: 'install' | 'change';
}

/** Shows `prompt` in a modal `<dialog>`; closed while `prompt` is undefined. */
export class GrantDialog extends LitElement {
  static override properties = {
    prompt: { attribute: false },
    _chosen: { state: true },
  };

  declare prompt: GrantPrompt | undefined;
  declare _chosen: ReadonlySet<string>;
  /** What had the focus before the dialog opened; it gets it back on close. */
  #opener: HTMLElement | null = null;

  constructor() {
    super();
    this.prompt = undefined;
    this._chosen = new Set();
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('prompt')) return;
    const before = changed.get('prompt') as GrantPrompt | undefined;
    const p = this.prompt;
    if (p === undefined || (before?.module === p.module && before.reason === p.reason)) return;
    // A change starts from what is granted now; an install from nothing.
    this._chosen = new Set(p.reason === 'change' ? grantList(p.module.grants) : []);
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('prompt')) return;
    const dialog = this.querySelector('dialog');
    if (dialog === null) return;
    if (this.prompt !== undefined && !dialog.open) {
      const active = document.activeElement;
      this.#opener = active instanceof HTMLElement && active !== document.body ? active : null;
      dialog.showModal();
      this.querySelector<HTMLElement>('.grant-list input')?.focus();
    } else if (this.prompt !== undefined) {
      // The next module in line: start again at its first checkbox.
      if (changed.get('prompt') !== this.prompt) this.querySelector<HTMLElement>('.grant-list input')?.focus();
    } else if (dialog.open) {
      dialog.close();
      this.#restoreFocus();
    }
  }

  #restoreFocus(): void {
    const opener = this.#opener;
    this.#opener = null;
    if (opener?.isConnected === true) opener.focus();
  }

  #answer(permissions: 'all' | string[] | null): void {
    const p = this.prompt;
    if (p !== undefined) emit(this, 'webmk-grant', { name: p.module.name, permissions });
  }

  #toggle(perm: string, on: boolean): void {
    const chosen = new Set(this._chosen);
    if (on) chosen.add(perm);
    else chosen.delete(perm);
    this._chosen = chosen;
  }

  /** Escape: change nothing (at install that leaves the module with nothing granted). */
  #cancel = (e: Event): void => {
    e.preventDefault();
    this.#answer(null);
  };

  protected override render() {
    const p = this.prompt;
    return html`<dialog class="grant-dialog" aria-labelledby="grant-title" aria-describedby="grant-intro" @cancel=${this.#cancel}>
      ${p === undefined ? nothing : this.#body(p)}
    </dialog>`;
  }

  #body({ module: m, reason }: GrantPrompt) {
    const asked = m.requested;
    const selected = asked.filter((r) => this._chosen.has(r));
    const install = reason === 'install';
    return html`<form
      method="dialog"
      @submit=${(e: Event) => {
        e.preventDefault();
        this.#answer(selected);
      }}
    >
      <h2 id="grant-title">${install ? html`<code>${m.name}</code> asks for permission` : html`Permissions of <code>${m.name}</code>`}</h2>
      <p id="grant-intro">
        ${install
          ? 'Nothing is allowed until you allow it. Choose what this module may do:'
          : 'Tick what this module may do; untick to take a permission back.'}
        <span class="note-muted">Changes apply to processes started afterwards.</span>
      </p>
      <fieldset>
        <legend class="visually-hidden">Permissions ${m.name} asks for</legend>
        <ul class="grant-list">
          ${asked.map((perm) => {
            const id = `grant-${perm.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
            return html`<li>
              <input
                type="checkbox"
                id=${id}
                .checked=${this._chosen.has(perm)}
                @change=${(e: Event) => this.#toggle(perm, (e.target as HTMLInputElement).checked)}
              />
              <label for=${id}>
                <span class="perm-words">${describePermission(perm)}</span>
                <code class="perm-code">${perm}</code>
              </label>
            </li>`;
          })}
        </ul>
      </fieldset>
      <div class="dialog-actions">
        ${install
          ? nothing
          : html`<button type="button" class="quiet cancel" @click=${() => this.#answer(null)}>Cancel</button>`}
        <button type="button" class="danger deny" @click=${() => this.#answer([])}>Deny all</button>
        <button type="submit" class="allow-selected">Allow selected (${selected.length})</button>
        <button type="button" class="primary allow-all" @click=${() => this.#answer('all')}>Allow all</button>
      </div>
    </form>`;
  }
}

customElements.define('webmk-grant-dialog', GrantDialog);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-grant-dialog': GrantDialog;
  }
}
