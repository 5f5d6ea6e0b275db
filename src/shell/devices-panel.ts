/**
 * The Devices panel: turn devices on (with the relay address as a setting), show this device's
 * pairing link and its QR code, pair by pasting another device's link, list the paired devices
 * and forget one. Self-contained: it drives the page's devices switch (`window.webmkDevices`,
 * src/remote/devices) through the structural `DevicesControl` below, and can sit in any view.
 */
import { LitElement, html, nothing } from 'lit';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';

/** A paired device as the panel lists it. */
export interface DeviceRow {
  id: string;
  name?: string;
  connected: boolean;
}

/** Devices while on (a structural view of src/remote's `Devices`). */
export interface DevicesOn {
  readonly id: string;
  readonly relay: string;
  pairingLink(): string;
  pair(link: string): Promise<unknown>;
  paired(): Promise<DeviceRow[]>;
  forget(id: string): Promise<void>;
  subscribe(fn: (e: unknown) => void): () => void;
}

/** The page's devices switch (a structural view of src/remote's `DevicesHandle`). */
export interface DevicesControl {
  readonly current: DevicesOn | undefined;
  /** Why the last start failed (shown while devices are off). */
  readonly lastError: unknown;
  start(): Promise<unknown>;
  stop(): Promise<void>;
  getRelay(): Promise<string>;
  setRelay(relay: string): Promise<void>;
  onChange(fn: () => void): () => void;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A short form of a peer id for people (the whole id is in the title). */
function short(id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id;
}

/** `<webmk-devices-panel .devices=${handle}>`. */
export class DevicesPanel extends LitElement {
  static override properties = {
    devices: { attribute: false },
    _relay: { state: true },
    _link: { state: true },
    _qr: { state: true },
    _paired: { state: true },
    _busy: { state: true },
    _error: { state: true },
  };

  declare devices: DevicesControl | undefined;
  declare _relay: string;
  declare _link: string;
  declare _qr: string;
  declare _paired: DeviceRow[];
  declare _busy: boolean;
  declare _error: string;
  #unsubscribe: Array<() => void> = [];
  #watching: DevicesControl | undefined;
  #watchingOn: DevicesOn | undefined;

  constructor() {
    super();
    this.devices = undefined;
    this._relay = '';
    this._link = '';
    this._qr = '';
    this._paired = [];
    this._busy = false;
    this._error = '';
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#watching = undefined;
    this.#watchingOn = undefined;
  }

  protected override updated(): void {
    const d = this.devices;
    if (d === undefined || d === this.#watching) return;
    this.#watching = d;
    this.#unsubscribe.push(d.onChange(() => void this.#refresh()));
    // A pairing link opened in the app (a scanned QR code) offers its relay and waits in the pair field.
    const opened = location.hash.startsWith('#pair=') ? new URLSearchParams(location.hash.slice(1)) : undefined;
    void d.getRelay().then((r) => (this._relay = this._relay || r || (opened?.get('relay') ?? '')));
    void this.#refresh();
  }

  /** Re-reads the paired list (and, once per start, makes a pairing link). */
  async #refresh(): Promise<void> {
    const on = this.devices?.current;
    if (on !== this.#watchingOn) {
      this.#watchingOn = on;
      this._link = '';
      this._qr = '';
      if (on !== undefined) {
        this.#unsubscribe.push(on.subscribe(() => void this.#refresh()));
        await this.#newLink(on);
      }
    }
    this._paired = on === undefined ? [] : await on.paired();
    this.requestUpdate();
  }

  async #newLink(on: DevicesOn): Promise<void> {
    this._link = on.pairingLink();
    // uqr is loaded with the link it draws, not with the shell.
    const { renderSVG } = await import('uqr');
    this._qr = renderSVG(this._link, { border: 2 });
  }

  async #act(what: () => Promise<unknown>): Promise<void> {
    this._busy = true;
    this._error = '';
    try {
      await what();
    } catch (e) {
      this._error = message(e);
    } finally {
      this._busy = false;
      await this.#refresh();
    }
  }

  #turnOn(e: Event): void {
    e.preventDefault();
    const d = this.devices;
    if (d === undefined) return;
    void this.#act(async () => {
      await d.setRelay(this._relay);
      await d.start();
    });
  }

  #pair(e: Event): void {
    e.preventDefault();
    const on = this.devices?.current;
    const input = this.querySelector<HTMLInputElement>('#devices-pair-link');
    if (on === undefined || input === null) return;
    void this.#act(async () => {
      await on.pair(input.value);
      input.value = '';
      // The link is spent: a reload must not offer it again.
      if (location.hash.startsWith('#pair=')) history.replaceState(history.state, '', location.href.split('#')[0]);
    });
  }

  protected override render() {
    const d = this.devices;
    if (d === undefined) return html`<p class="muted">Devices are not available on this page.</p>`;
    const on = d.current;
    return html`<div class="devices-panel">
      ${on === undefined ? this.#off() : this.#on(on)}
      ${this._error || (on === undefined && d.lastError !== undefined)
        ? html`<p class="error" role="alert">${this._error || message(d.lastError)}</p>`
        : nothing}
    </div>`;
  }

  #off() {
    return html`<p class="muted">Reach this webmk from another browser or device: both meet through a relay (<code>npm run relay</code>), then talk directly over WebRTC.</p>
      <form class="devices-on" @submit=${(e: Event) => this.#turnOn(e)}>
        <label for="devices-relay">Relay address</label>
        <input
          id="devices-relay"
          type="text"
          spellcheck="false"
          placeholder="/dns4/relay.example.org/tcp/443/wss/p2p/12D3Koo…"
          .value=${this._relay}
          @input=${(e: Event) => (this._relay = (e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="primary" ?disabled=${this._busy || this._relay.trim() === ''}>
          ${this._busy ? 'Turning on…' : 'Turn devices on'}
        </button>
      </form>`;
  }

  #on(on: DevicesOn) {
    return html`<p>This device: <code title=${on.id}>${short(on.id)}</code> <span class="muted">via ${on.relay}</span></p>
      <div class="devices-link">
        <label for="devices-own-link">Pairing link (one use)</label>
        <input id="devices-own-link" type="text" readonly .value=${this._link} />
        <button type="button" class="small" @click=${() => void navigator.clipboard?.writeText(this._link)}>Copy</button>
        <button type="button" class="small" @click=${() => void this.#newLink(on)}>New link</button>
        ${this._qr ? html`<div class="devices-qr" role="img" aria-label="QR code of the pairing link">${unsafeSVG(this._qr)}</div>` : nothing}
      </div>
      <form class="devices-pair" @submit=${(e: Event) => this.#pair(e)}>
        <label for="devices-pair-link">Pair with another device: paste its link</label>
        <input
          id="devices-pair-link"
          type="text"
          spellcheck="false"
          placeholder="https://…#pair=…"
          .value=${location.hash.startsWith('#pair=') && !location.href.includes(on.id) ? location.href : ''}
        />
        <button type="submit" class="primary" ?disabled=${this._busy}>${this._busy ? 'Pairing…' : 'Pair'}</button>
      </form>
      <h3>Paired devices</h3>
      ${this._paired.length === 0
        ? html`<p class="muted">None yet.</p>`
        : html`<ul class="devices-list">
            ${this._paired.map(
              (p) => html`<li data-peer=${p.id}>
                ${p.name !== undefined ? html`<span class="name">${p.name}</span>` : nothing}
                <code title=${p.id}>${short(p.id)}</code>
                <span class="state ${p.connected ? 'ok' : 'muted'}">${p.connected ? 'connected' : 'not connected'}</span>
                <button type="button" class="small danger" aria-label="Forget ${short(p.id)}" @click=${() => void this.#act(() => on.forget(p.id))}>
                  Forget
                </button>
              </li>`,
            )}
          </ul>`}
      <button type="button" class="small" @click=${() => void this.#act(() => this.devices?.stop() ?? Promise.resolve())}>Turn devices off</button>`;
  }
}

customElements.define('webmk-devices-panel', DevicesPanel);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-devices-panel': DevicesPanel;
  }
}
