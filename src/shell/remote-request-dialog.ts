/**
 * The question a device's remote spawn puts to the person here (`kernel.remoteRequests()`):
 * "Device <name> asks to run <module>" (or to install it first, when it sent the module along), answered once, always for this device and module, or
 * denied. One at a time, oldest first; unanswered, the kernel refuses it after a while.
 */
import { LitElement, html, nothing } from 'lit';
import { KernelEvents, type KernelApi, type RemoteAnswer, type RemoteRequest } from '../kernel';
import { formatKiB } from './format';

/** `<webmk-remote-request-dialog>`: give it the kernel; it follows the requests itself. */
export class RemoteRequestDialog extends LitElement {
  static override properties = {
    kernel: { attribute: false },
    _request: { state: true },
  };

  declare kernel: KernelApi | undefined;
  declare _request: RemoteRequest | undefined;
  #following: KernelApi | undefined;
  readonly #refresh = (): void => {
    this._request = this.#following?.remoteRequests()[0];
  };

  constructor() {
    super();
    this.kernel = undefined;
    this._request = undefined;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#follow(undefined);
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('kernel') && this.isConnected) this.#follow(this.kernel);
  }

  protected override updated(): void {
    const dialog = this.querySelector('dialog');
    if (dialog === null) return;
    if (this._request !== undefined && !dialog.open) dialog.showModal();
    else if (this._request === undefined && dialog.open) dialog.close();
  }

  #follow(kernel: KernelApi | undefined): void {
    this.#following?.removeEventListener(KernelEvents.remoterequest, this.#refresh);
    this.#following = kernel;
    kernel?.addEventListener(KernelEvents.remoterequest, this.#refresh);
    this.#refresh();
  }

  #answer(answer: RemoteAnswer): void {
    const r = this._request;
    if (r === undefined) return;
    try {
      this.#following?.answerRemote(r.id, answer);
    } catch {
      // Settled meanwhile (the link ended, or the time ran out): the next one shows.
      this.#refresh();
    }
  }

  /** Escape denies: nothing runs that the person did not allow. */
  #cancel = (e: Event): void => {
    e.preventDefault();
    this.#answer('deny');
  };

  protected override render() {
    const r = this._request;
    return html`<dialog class="remote-request-dialog" aria-labelledby="remote-request-title" @cancel=${this.#cancel}>
      ${r === undefined
        ? nothing
        : html`<h2 id="remote-request-title">
              Device <span class="device-name">${r.nodeName}</span> asks to ${r.install !== undefined ? 'install and run' : 'run'} <code>${r.module}</code>
            </h2>
            ${r.install === undefined
              ? nothing
              : html`<p class="remote-install">
                  <code>${r.module}</code> is not installed here: the device sent its package (${formatKiB(r.install.bytes)}), with its
                  manifest and signature as it keeps them. Allowing installs it here, signed or not (a signature that does not verify is still refused).
                </p>`}
            <p>
              It runs here, with what <code>${r.module}</code> ${r.install !== undefined ? 'is granted here: nothing until you grant it' : 'was granted on this device'}; its output, and its window if it opens one, go to the other device.
              <span class="note-muted">Device id <code title=${r.node}>${r.node.slice(0, 8)}…${r.node.slice(-6)}</code> (the name is the one it gave).</span>
            </p>
            <div class="dialog-actions">
              <button type="button" class="danger deny" @click=${() => this.#answer('deny')}>Deny</button>
              <button type="button" class="always" @click=${() => this.#answer('always')}>Always for this device and module</button>
              <button type="button" class="primary once" @click=${() => this.#answer('once')}>Allow once</button>
            </div>`}
    </dialog>`;
  }
}

customElements.define('webmk-remote-request-dialog', RemoteRequestDialog);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-remote-request-dialog': RemoteRequestDialog;
  }
}
