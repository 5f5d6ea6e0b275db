/**
 * Packages and trust: each package installed from a zip with its version, its modules and how
 * they are now, who signed it and whether that key is trusted, with Uninstall; and the list of
 * trusted publisher keys, where a key is added or removed.
 */
import { LitElement, html, nothing } from 'lit';
import type { PackageInfo, ProcessInfo, TrustedKey } from '../kernel';
import { emit } from './events';

/** Lists `packages` (those from zips) and `keys`. */
export class PackagesView extends LitElement {
  static override properties = {
    packages: { attribute: false },
    keys: { attribute: false },
    processes: { attribute: false },
    fetching: { attribute: false },
    _confirming: { state: true },
  };

  declare packages: PackageInfo[];
  declare keys: TrustedKey[];
  declare processes: ProcessInfo[];
  /** The URL being downloaded, if any, and how far it is. */
  declare fetching: { url: string; loaded: number; total?: number } | undefined;
  declare _confirming: string | undefined;

  constructor() {
    super();
    this.packages = [];
    this.keys = [];
    this.processes = [];
    this.fetching = undefined;
    this._confirming = undefined;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    const zips = this.packages.filter((p) => p.format === 'zip');
    return html`${this.#fromUrl()}${zips.length === 0
        ? html`<p class="empty">No packages yet. Drop a package (<code>.zip</code> with a <code>webmk.json</code>) anywhere on this page.</p>`
        : html`<ul class="cards package-list">
            ${zips.map((p) => this.#item(p))}
          </ul>`}
      ${this.#keys()}`;
  }

  #item(p: PackageInfo) {
    const confirming = this._confirming === p.name;
    const live = new Set(this.processes.filter((x) => x.state !== 'exited').map((x) => `${x.name}`));
    return html`<li class="card package" data-name=${p.name}>
      <div class="card-head">
        <span class="title-group">
          <span class="module-name">${p.name}</span>
          <span class="meta">v${p.version} · ${p.modules.length} module${p.modules.length === 1 ? '' : 's'}</span>
        </span>
        ${confirming
          ? nothing
          : html`<span class="card-actions">
              <button type="button" class="small quiet export" aria-label=${`Export package ${p.name}`} @click=${() => emit(this, 'webmk-export-package', { name: p.name })}>
                Export
              </button>
              <button type="button" class="small quiet uninstall" aria-label=${`Uninstall package ${p.name}`} @click=${() => (this._confirming = p.name)}>
                Uninstall
              </button>
            </span>`}
      </div>
      ${confirming
        ? html`<div class="confirm" role="group" aria-label=${`Confirm uninstalling package ${p.name}`}>
            <span>Uninstall ${p.name} and its ${p.modules.length} modules?${p.dependents.length > 0 ? ` ${p.dependents.join(', ')} depend on it.` : ''}</span>
            <button
              type="button"
              class="small danger"
              @click=${() => {
                this._confirming = undefined;
                emit(this, 'webmk-uninstall-package', { name: p.name, force: p.dependents.length > 0 });
              }}
            >
              Yes, uninstall
            </button>
            <button type="button" class="small cancel" @click=${() => (this._confirming = undefined)}>Cancel</button>
          </div>`
        : nothing}
      ${p.description ? html`<p class="description">${p.description}</p>` : nothing} ${this.#signer(p)}
      <ul class="chips package-modules" aria-label=${`Modules of ${p.name}`}>
        ${p.modules.map((m) => {
          const state = live.has(m.name) ? 'running' : m.state;
          // After an update, processes still on an older version until they end or move (ADR 0023).
          const older = this.processes.filter((x) => x.name === m.name && x.state !== 'exited' && x.sha256 !== undefined && x.sha256 !== m.sha256);
          return html`<li class="chip module-state ${state}" data-module=${m.name} data-state=${state} title=${m.error ?? `${m.kind} module`}>
            ${m.name} <span class="note-muted">${state}</span>
            ${older.map((x) => html`<span class="note-muted older" data-pid=${x.pid}>· pid ${x.pid} still on v${x.version ?? '?'}${x.updatePending !== undefined ? ', moving' : ''}</span>`)}
          </li>`;
        })}
      </ul>
      ${Object.keys(p.dependencies).length > 0
        ? html`<p class="note dependencies">Needs ${Object.entries(p.dependencies).map(([n, r]) => `${n} ${r}`).join(', ')}</p>`
        : nothing}
      ${p.dependents.length > 0 ? html`<p class="note dependents">Needed by ${p.dependents.join(', ')}</p>` : nothing}
    </li>`;
  }

  #fromUrl() {
    const f = this.fetching;
    return html`<form
        class="install-url"
        @submit=${(e: Event) => {
          e.preventDefault();
          const input = (e.target as HTMLFormElement).querySelector<HTMLInputElement>('#install-url');
          const url = input?.value.trim() ?? '';
          if (url === '' || input === null) return;
          emit(this, 'webmk-install-url', { url });
          input.value = '';
        }}
      >
        <label for="install-url">Install from URL</label>
        <input id="install-url" type="url" autocomplete="off" spellcheck="false" placeholder="https://example.org/package.zip" />
        <button type="submit" class="small" ?disabled=${f !== undefined}>Install</button>
      </form>
      ${f !== undefined
        ? html`<p class="fetching" role="status">
            Downloading ${f.url}…
            ${f.total !== undefined ? html`<progress max=${f.total} value=${f.loaded}></progress>` : html`${Math.round(f.loaded / 1024)} KiB`}
          </p>`
        : nothing}`;
  }

  #signer(p: PackageInfo) {
    if (p.publisher === null) return html`<p class="signer unsigned" data-signature="unsigned">⚠ Unsigned: installed because you agreed.</p>`;
    const key = html`<code title=${p.publisher}>${shortKey(p.publisher)}</code>`;
    if (p.signature === 'trusted') {
      const label = this.keys.find((k) => k.publicKey === p.publisher)?.label;
      return html`<p class="signer trusted" data-signature="trusted">✓ Signed by ${label !== undefined ? html`${label} (${key})` : key}, a key you trust.</p>`;
    }
    return html`<p class="signer untrusted-key" data-signature="untrusted-key">
      ⚠ Signed by ${key}, a key you do not trust.
      <button type="button" class="small quiet trust-publisher" @click=${() => emit(this, 'webmk-trust', { publicKey: p.publisher as string, add: true })}>
        Trust this key
      </button>
    </p>`;
  }

  #keys() {
    return html`<h3 id="keys-heading">Trusted keys</h3>
      ${this.keys.length === 0
        ? html`<p class="empty">No trusted keys: every package asks before it installs.</p>`
        : html`<ul class="key-list" aria-labelledby="keys-heading">
            ${this.keys.map(
              (k) => html`<li class="trusted-key" data-key=${k.publicKey}>
                <code title=${k.publicKey}>${shortKey(k.publicKey)}</code> ${k.label !== undefined ? html`<span>${k.label}</span>` : nothing}
                <button
                  type="button"
                  class="small quiet remove-key"
                  aria-label=${`Stop trusting ${k.label ?? shortKey(k.publicKey)}`}
                  @click=${() => emit(this, 'webmk-trust', { publicKey: k.publicKey, add: false })}
                >
                  Remove
                </button>
              </li>`,
            )}
          </ul>`}
      <form
        class="add-key"
        @submit=${(e: Event) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const key = form.querySelector<HTMLInputElement>('#add-key-value')?.value.trim() ?? '';
          const label = form.querySelector<HTMLInputElement>('#add-key-label')?.value.trim() ?? '';
          if (key === '') return;
          emit(this, 'webmk-trust', { publicKey: key, add: true, ...(label !== '' ? { label } : {}) });
          form.reset();
        }}
      >
        <label for="add-key-value">Public key (base64)</label>
        <input id="add-key-value" type="text" autocomplete="off" spellcheck="false" />
        <label for="add-key-label">Name</label>
        <input id="add-key-label" type="text" autocomplete="off" />
        <button type="submit" class="small">Trust key</button>
      </form>`;
  }
}

/** The first characters of a key, enough to tell keys apart at a glance. */
export function shortKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 12)}…` : key;
}

customElements.define('webmk-packages', PackagesView);
