/**
 * The Configure… dialog: how a module is to run from its next start (restart type and intensity,
 * watchdog, start at boot and in what order, arguments). An empty field falls back to the
 * manifest, then the default. It only asks; the desktop calls `kernel.configure` with the answer.
 */
import { LitElement, html, nothing } from 'lit';
import { manifestSettings, type ModuleConfig, type ModuleInfo, type RestartPolicy } from '../kernel';
import { joinArgs, splitArgs } from './args';
import { emit } from './events';
import { wrapTab } from './focus-trap';

/** The module being configured, and why the last save was refused (if it was). */
export interface ConfigPrompt {
  module: ModuleInfo;
  error?: string;
}

type RestartType = RestartPolicy['restart'];
/** The execution modes a person can choose here: the ones that run. */
const MODES = ['worker', 'iframe', 'inpage'] as const;

/** Shows `prompt` in a modal `<dialog>`; closed while `prompt` is undefined. */
export class ConfigDialog extends LitElement {
  static override properties = {
    prompt: { attribute: false },
    _restartType: { state: true },
  };

  declare prompt: ConfigPrompt | undefined;
  /** The restart type chosen in the form ('' : as the manifest says); intensity needs one. */
  declare _restartType: RestartType | '';
  /** What had the focus before the dialog opened; it gets it back on close. */
  #opener: HTMLElement | null = null;

  constructor() {
    super();
    this.prompt = undefined;
    this._restartType = '';
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('prompt')) return;
    const before = changed.get('prompt') as ConfigPrompt | undefined;
    const m = this.prompt?.module;
    if (m !== undefined && before?.module !== m) this._restartType = m.config.restart?.restart ?? '';
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('prompt')) return;
    const dialog = this.querySelector('dialog');
    if (dialog === null) return;
    if (this.prompt !== undefined && !dialog.open) {
      const active = document.activeElement;
      this.#opener = active instanceof HTMLElement && active !== document.body ? active : null;
      dialog.showModal();
      this.querySelector<HTMLElement>('#config-mode')?.focus();
    } else if (this.prompt?.error !== undefined) {
      this.querySelector<HTMLElement>('.config-error')?.focus();
    } else if (this.prompt === undefined && dialog.open) {
      dialog.close();
      const opener = this.#opener;
      this.#opener = null;
      if (opener?.isConnected === true) opener.focus();
    }
  }

  #answer(config: ModuleConfig | null): void {
    const p = this.prompt;
    const migratable = this.querySelector<HTMLInputElement>('#config-migratable');
    if (p !== undefined) emit(this, 'webmk-config-answer', { name: p.module.name, config, ...(config !== null && migratable !== null ? { migratable: migratable.checked } : {}) });
  }

  /** Escape: change nothing. */
  #cancel = (e: Event): void => {
    e.preventDefault();
    this.#answer(null);
  };

  /** The form as a configuration: what is filled in, on top of what the form does not show. */
  #read(form: HTMLFormElement, m: ModuleInfo): ModuleConfig {
    const field = (id: string) => form.querySelector<HTMLInputElement>(`#${id}`);
    const text = (id: string) => field(id)?.value.trim() ?? '';
    const config: ModuleConfig = {};
    const mode = form.querySelector<HTMLSelectElement>('#config-mode')?.value ?? '';
    if (mode === 'worker' || mode === 'iframe' || mode === 'inpage') config.mode = mode;
    // A mode stored before that this form does not offer (it cannot run yet) is kept as it is.
    else if (mode === '' && m.config.mode !== undefined && !MODES.includes(m.config.mode as (typeof MODES)[number])) config.mode = m.config.mode;
    if (this._restartType !== '') {
      // Keeps what the form does not show (periodMs, backoff) of the policy stored before.
      const policy: RestartPolicy = { ...m.config.restart, restart: this._restartType };
      delete policy.intensity;
      if (text('config-intensity') !== '') policy.intensity = Number(text('config-intensity'));
      config.restart = policy;
    }
    if (text('config-watchdog') !== '') config.watchdogMs = Number(text('config-watchdog'));
    // Stored only when it differs from what the manifest says, so the manifest keeps its say otherwise.
    const autostart = field('config-autostart')?.checked === true;
    if (autostart !== (manifestSettings(m.manifest).autostart ?? false)) config.autostart = autostart;
    if (text('config-start-order') !== '') config.startOrder = Number(text('config-start-order'));
    const args = splitArgs(field('config-args')?.value ?? '');
    if (args.length > 0) config.args = args;
    return config;
  }

  protected override render() {
    const p = this.prompt;
    return html`<dialog
      class="config-dialog"
      aria-labelledby="config-title"
      aria-describedby="config-intro"
      @cancel=${this.#cancel}
      @keydown=${(e: KeyboardEvent) => wrapTab(e.currentTarget as HTMLElement, e)}
    >
      ${p === undefined ? nothing : this.#body(p)}
    </dialog>`;
  }

  #body({ module: m, error }: ConfigPrompt) {
    const c = m.config;
    const man = manifestSettings(m.manifest);
    const inherited = man.restart?.restart ?? 'temporary';
    return html`<form
      method="dialog"
      @submit=${(e: Event) => {
        e.preventDefault();
        this.#answer(this.#read(e.currentTarget as HTMLFormElement, m));
      }}
    >
      <h2 id="config-title">Configure <code>${m.name}</code></h2>
      <p id="config-intro">
        How it runs from its next start. An empty field takes what the module's manifest says, else the default.
        <span class="note-muted">Options given to a single run still come first.</span>
      </p>
      <div class="config-grid">
        <label for="config-mode">Runs in</label>
        <select id="config-mode">
          <option value="" ?selected=${c.mode === undefined}>As the manifest says (${man.mode ?? 'worker'})</option>
          ${MODES.map(
            (x) =>
              html`<option value=${x} ?selected=${c.mode === x} ?disabled=${x === 'inpage' && !(m.grants.run ?? []).includes('inpage')}>
                ${x === 'worker' ? 'worker: its own worker' : x === 'iframe' ? 'iframe: a sandboxed frame' : 'inpage: on the page (granted)'}
              </option>`,
          )}
        </select>
        <label for="config-restart">Restart</label>
        <select
          id="config-restart"
          @change=${(e: Event) => (this._restartType = (e.target as HTMLSelectElement).value as RestartType | '')}
        >
          <option value="" ?selected=${c.restart === undefined}>As the manifest says (${inherited})</option>
          ${(['temporary', 'transient', 'permanent'] as const).map(
            (t) => html`<option value=${t} ?selected=${c.restart?.restart === t}>${t}</option>`,
          )}
        </select>
        <label for="config-intensity">Restarts allowed (intensity)</label>
        <input
          id="config-intensity"
          type="number"
          min="0"
          step="1"
          inputmode="numeric"
          placeholder=${String(man.restart?.intensity ?? 3)}
          value=${c.restart?.intensity ?? ''}
          ?disabled=${this._restartType === ''}
          aria-describedby="config-intensity-note"
        />
        <span id="config-intensity-note" class="config-note"
          >${this._restartType === '' ? 'choose a restart type to set it' : `within ${(c.restart?.periodMs ?? man.restart?.periodMs ?? 60_000) / 1000} s`}</span
        >
        <label for="config-watchdog">Watchdog (ms)</label>
        <input
          id="config-watchdog"
          type="number"
          min="10"
          step="1"
          inputmode="numeric"
          placeholder=${man.watchdogMs !== undefined ? String(man.watchdogMs) : 'none'}
          value=${c.watchdogMs ?? ''}
        />
        <label for="config-start-order">Start order</label>
        <input
          id="config-start-order"
          type="number"
          step="1"
          inputmode="numeric"
          placeholder=${String(man.startOrder ?? 0)}
          value=${c.startOrder ?? ''}
        />
        <label for="config-args">Arguments</label>
        <input
          id="config-args"
          type="text"
          autocomplete="off"
          autocapitalize="off"
          spellcheck="false"
          placeholder="none"
          value=${c.args !== undefined ? joinArgs(c.args) : ''}
        />
        <span class="config-check">
          <input id="config-autostart" type="checkbox" ?checked=${c.autostart ?? man.autostart ?? false} />
          <label for="config-autostart">Start when the app opens</label>
        </span>
        ${m.kind === 'wasm'
          ? html`<span class="config-check">
              <input id="config-migratable" type="checkbox" ?checked=${m.migratable !== undefined} />
              <label for="config-migratable" title="Instrumented with Asyncify: about a third bigger; it can then be hibernated and moved while it waits for input">
                Migratable (hibernate and move while it waits)
              </label>
            </span>`
          : nothing}
      </div>
      ${error !== undefined ? html`<p class="field-error config-error" role="alert" tabindex="-1">${error}</p>` : nothing}
      <div class="dialog-actions">
        <button type="button" class="quiet cancel" @click=${() => this.#answer(null)}>Cancel</button>
        <button type="submit" class="primary save">Save</button>
      </div>
    </form>`;
  }
}

customElements.define('webmk-config-dialog', ConfigDialog);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-config-dialog': ConfigDialog;
  }
}
