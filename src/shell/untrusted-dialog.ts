/**
 * The question asked before a package that no trusted key vouches for is installed: unsigned, or
 * signed by a key the person does not trust. It only asks; the desktop acts on the answer.
 */
import { LitElement, html, nothing } from 'lit';
import { emit } from './events';
import { shortKey } from './packages-view';

/** A package the registry refused as untrusted, waiting for the person's word. */
export interface UntrustedPrompt {
  label: string;
  packageName: string;
  publisher: string | null;
}

/** Shows `prompt` in a modal `<dialog>`; closed while `prompt` is undefined. */
export class UntrustedDialog extends LitElement {
  static override properties = { prompt: { attribute: false } };

  declare prompt: UntrustedPrompt | undefined;

  constructor() {
    super();
    this.prompt = undefined;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override updated(): void {
    const dialog = this.querySelector('dialog');
    if (dialog === null) return;
    if (this.prompt !== undefined && !dialog.open) {
      dialog.showModal();
      this.querySelector<HTMLElement>('.cancel')?.focus();
    } else if (this.prompt === undefined && dialog.open) dialog.close();
  }

  #answer(answer: 'cancel' | 'install' | 'trust'): void {
    emit(this, 'webmk-untrusted-answer', { answer });
  }

  protected override render() {
    const p = this.prompt;
    return html`<dialog
      class="untrusted-dialog"
      aria-labelledby="untrusted-title"
      @cancel=${(e: Event) => {
        e.preventDefault();
        this.#answer('cancel');
      }}
    >
      ${p === undefined
        ? nothing
        : html`<h2 id="untrusted-title">Install <code>${p.packageName}</code>?</h2>
            <p>
              ${p.publisher === null
                ? 'This package is not signed: nobody vouches for what is in it.'
                : html`This package is signed by <code title=${p.publisher}>${shortKey(p.publisher)}</code>, a key you do not trust.`}
              Install it only if you trust where it came from. It will show as such.
            </p>
            <div class="dialog-actions">
              <button type="button" class="quiet cancel" @click=${() => this.#answer('cancel')}>Cancel</button>
              ${p.publisher !== null
                ? html`<button type="button" class="trust-install" @click=${() => this.#answer('trust')}>Trust this key and install</button>`
                : nothing}
              <button type="button" class="danger install-anyway" @click=${() => this.#answer('install')}>Install anyway</button>
            </div>`}
    </dialog>`;
  }
}

customElements.define('webmk-untrusted-dialog', UntrustedDialog);
