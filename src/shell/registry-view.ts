/**
 * The installed modules: what each is, what it asks for and was granted, how it is configured to
 * run, with Run (the args may go on with `| more stages`), Mount a folder…, Permissions…,
 * Configure…, Files… and a two-step Uninstall.
 */
import { LitElement, html, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import { describePermission, grantList, type ModuleInfo, type NodeInfo } from '../kernel';
import { joinArgs } from './args';
import { formatCommandLine, parseArgsLine } from './command-line';
import { emit } from './events';
import { CAPABILITY_WORDS, formatKiB } from './format';

/** Lists `modules`; `defaultArgs` prefills each module's args field (from the examples). */
export class RegistryView extends LitElement {
  static override properties = {
    modules: { attribute: false },
    loaded: { type: Boolean },
    defaultArgs: { attribute: false },
    folders: { attribute: false },
    nodes: { attribute: false },
    _confirming: { state: true },
    _errors: { state: true },
  };

  declare modules: ModuleInfo[];
  /** Other nodes a module can be run on ("Run on…" in the mode list). */
  declare nodes: NodeInfo[];
  declare loaded: boolean;
  declare defaultArgs: ReadonlyMap<string, string>;
  /** The folder (its name) each module gets at /data when run, by module. */
  declare folders: ReadonlyMap<string, string>;
  declare _confirming: string | undefined;
  /** Why a module's args could not run, by module name. */
  declare _errors: ReadonlyMap<string, string>;
  /** What the person typed in each args field, kept across re-renders (else the configured args, else the example's). */
  #args = new Map<string, string>();
  /** Where each module runs when its Run button is pressed (default: a worker). */
  #modes = new Map<string, RunMode>();
  /** The node each module runs on when one was picked under "Run on…" (absent: this node). */
  #nodes = new Map<string, string>();

  constructor() {
    super();
    this.modules = [];
    this.nodes = [];
    this.loaded = false;
    this.defaultArgs = new Map();
    this.folders = new Map();
    this._confirming = undefined;
    this._errors = new Map();
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    if (!this.loaded) return html`<p class="empty">Loading the registry…</p>`;
    if (this.modules.length === 0) {
      return html`<p class="empty">
        Nothing installed yet. Drop a <code>.wasm</code> or <code>.js</code> module anywhere on this page, use
        <strong>Install module…</strong>, or install an example below.
      </p>`;
    }
    const sorted = [...this.modules].sort((a, b) => a.name.localeCompare(b.name));
    return html`<ul class="cards module-list">
      ${sorted.map((m) => this.#item(m))}
    </ul>`;
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('_confirming')) return;
    // The button that was pressed is gone; keep keyboard focus on the same module.
    const before = changed.get('_confirming');
    const name = this._confirming ?? (typeof before === 'string' ? before : undefined);
    if (name === undefined) return;
    const card = [...this.querySelectorAll<HTMLElement>('li.module')].find((li) => li.dataset.name === name);
    card?.querySelector<HTMLButtonElement>(this._confirming === undefined ? '.uninstall' : '.cancel')?.focus();
  }

  /** The mode its Run button uses: chosen here, else configured, else its manifest's, else a worker. */
  #modeOf(m: ModuleInfo): RunMode {
    const asked = this.#modes.get(m.name) ?? m.config.mode ?? m.manifest.mode ?? (m.kind === 'js' ? 'iframe' : 'worker');
    return RUN_MODES.find((x) => x === asked) ?? 'worker';
  }

  /** A mode, or `node:<id>` for "Run on…" that node. */
  #pick(name: string, value: string): void {
    if (value.startsWith('node:')) {
      this.#nodes.set(name, value.slice(5));
      return;
    }
    this.#nodes.delete(name);
    this.#modes.set(name, value as RunMode);
  }

  #argsFor(name: string): string {
    const configured = this.modules.find((m) => m.name === name)?.config.args;
    return this.#args.get(name) ?? (configured !== undefined ? joinArgs(configured) : undefined) ?? this.defaultArgs.get(name) ?? '';
  }

  #run(name: string): void {
    const parsed = parseArgsLine(name, this.#argsFor(name));
    this.#setError(name, parsed.ok ? undefined : parsed.error);
    if (!parsed.ok) return;
    const [only] = parsed.stages;
    // A mode chosen here beats the module's configuration and manifest; none chosen, they decide.
    const mode = this.#modes.get(name);
    const node = this.#nodes.get(name);
    if (node !== undefined && parsed.stages.length === 1 && only !== undefined) emit(this, 'webmk-run', { name, args: only.args, mode: 'remote', node });
    else if (parsed.stages.length === 1 && only !== undefined) emit(this, 'webmk-run', { name, args: only.args, ...(mode !== undefined ? { mode } : {}) });
    else emit(this, 'webmk-pipeline', { stages: parsed.stages, line: formatCommandLine(parsed.stages) });
  }

  #setError(name: string, error: string | undefined): void {
    if (this._errors.get(name) === error) return;
    const errors = new Map(this._errors);
    if (error === undefined) errors.delete(name);
    else errors.set(name, error);
    this._errors = errors;
  }

  /** What the module asked for beyond WASI, each marked granted or not, and Permissions…. */
  /** Mount a folder… (for a module that works with files or has one mounted), or the folder it gets. */
  #folderRow(m: ModuleInfo) {
    const folder = this.folders.get(m.name);
    if (folder === undefined && (!m.command || !m.capabilities.includes('files'))) return nothing;
    return html`<p class="folder-row">
      ${folder === undefined
        ? html`<button type="button" class="small quiet mount-folder" aria-label=${`Mount a folder for ${m.name}`} @click=${() => emit(this, 'webmk-mount-folder', { name: m.name })}>
            Mount a folder…
          </button>`
        : html`<span class="mounted-folder">Folder <code>${folder}</code> at <code>/data</code> when it runs</span>
            <button type="button" class="small quiet unmount-folder" aria-label=${`Unmount the folder of ${m.name}`} @click=${() => emit(this, 'webmk-mount-folder', { name: m.name, drop: true })}>
              Unmount
            </button>`}
    </p>`;
  }

  #permissions(m: ModuleInfo) {
    if (m.requested.length === 0) return nothing;
    const granted = new Set(grantList(m.grants));
    const count = m.requested.filter((r) => granted.has(r)).length;
    return html`<div class="perms">
      <div class="perms-head">
        <span class="perms-summary">Permissions: ${count} of ${m.requested.length} granted</span>
        <button
          type="button"
          class="small quiet permissions"
          aria-label=${`Permissions of ${m.name}…`}
          @click=${() => emit(this, 'webmk-permissions', { name: m.name })}
        >
          Permissions…
        </button>
      </div>
      <ul class="chips perm-chips" aria-label=${`What ${m.name} asks for`}>
        ${m.requested.map((r) => {
          const on = granted.has(r);
          return html`<li class="chip perm ${on ? 'granted' : 'denied'}" title=${r} data-permission=${r}>
            <span aria-hidden="true">${on ? '✓' : '✕'}</span> ${describePermission(r)}<span class="visually-hidden"
              >: ${on ? 'granted' : 'not granted'}</span
            >
          </li>`;
        })}
      </ul>
    </div>`;
  }

  #item(m: ModuleInfo) {
    const id = `args-${cssId(m.name)}`;
    const confirming = this._confirming === m.name;
    return html`<li class="card module" data-name=${m.name}>
      <div class="card-head">
        <span class="title-group">
          <span class="module-name">${m.name}</span>
          <span class="meta">${m.version ? `v${m.version} · ` : ''}${formatKiB(m.size)}${m.package !== m.name ? html` · <span class="from-package">from ${m.package}</span>` : nothing}</span>
        </span>
        ${confirming
          ? nothing
          : html`<span class="card-actions">
              <button
                type="button"
                class="small quiet configure"
                aria-label=${`Configure ${m.name}…`}
                @click=${() => emit(this, 'webmk-configure', { name: m.name })}
              >
                Configure…
              </button>
              <button
                type="button"
                class="small quiet files"
                aria-label=${`Files of ${m.name}…`}
                @click=${() => emit(this, 'webmk-files', { name: m.name })}
              >
                Files…
              </button>
              <button
                type="button"
                class="small quiet uninstall"
                aria-label=${`Uninstall ${m.name}`}
                @click=${() => (this._confirming = m.name)}
              >
                Uninstall
              </button>
            </span>`}
      </div>
      ${confirming
        ? html`<div class="confirm" role="group" aria-label=${`Confirm uninstalling ${m.name}`}>
            <span>${m.package !== m.name ? `Uninstall package ${m.package}, with ${m.name} and its other modules?` : `Uninstall ${m.name}?`}</span>
            <button
              type="button"
              class="small danger"
              @click=${() => {
                this._confirming = undefined;
                emit(this, 'webmk-uninstall', { name: m.name });
              }}
            >
              Yes, uninstall
            </button>
            <button type="button" class="small cancel" @click=${() => (this._confirming = undefined)}>Cancel</button>
          </div>`
        : nothing}
      ${m.description ? html`<p class="description">${m.description}</p>` : nothing}
      ${m.capabilities.length > 0
        ? html`<ul class="chips" aria-label="Asks for">
            ${m.capabilities.map((c) => {
              const w = CAPABILITY_WORDS[c] ?? { label: c, title: c };
              return html`<li class="chip ${c === 'unknown-imports' ? 'warn' : ''}" title=${w.title}>${w.label}</li>`;
            })}
          </ul>`
        : nothing}
      ${this.#permissions(m)} ${configSummary(m)}
      ${m.command ? nothing : html`<p class="note">A service, not a WASI command (no <code>_start</code>): call its functions in Services and store.</p>`}
      <form
        class="run-row"
        @submit=${(e: Event) => {
          e.preventDefault();
          this.#run(m.name);
        }}
      >
        <label for=${id}>Arguments</label>
        <input
          id=${id}
          class="args"
          type="text"
          autocomplete="off"
          autocapitalize="off"
          spellcheck="false"
          placeholder="none"
          .value=${live(this.#argsFor(m.name))}
          aria-invalid=${this._errors.has(m.name) ? 'true' : 'false'}
          aria-errormessage=${`${id}-error`}
          @input=${(e: Event) => {
            this.#args.set(m.name, (e.target as HTMLInputElement).value);
            this.#setError(m.name, undefined);
          }}
        />
        <label class="visually-hidden" for=${`${id}-mode`}>Run ${m.name} in</label>
        <select
          id=${`${id}-mode`}
          class="mode"
          title="Where it runs: its own worker, or a worker inside a sandboxed frame (a separate process with an opaque origin)"
          @change=${(e: Event) => this.#pick(m.name, (e.target as HTMLSelectElement).value)}
        >
          ${RUN_MODES.map(
            (mode) => html`<option value=${mode} ?selected=${!this.#nodes.has(m.name) && this.#modeOf(m) === mode} ?disabled=${!runnableIn(m, mode)}>${mode}</option>`,
          )}
          ${this.nodes.length > 0 && m.command
            ? html`<optgroup label="Run on…">
                ${this.nodes.map((n) => html`<option value=${`node:${n.id}`} ?selected=${this.#nodes.get(m.name) === n.id}>on ${n.name}</option>`)}
              </optgroup>`
            : nothing}
        </select>
        <button type="submit" class="primary" aria-label=${`Run ${m.name}`}>Run</button>
      </form>
      ${this.#folderRow(m)}
      ${this._errors.has(m.name)
        ? html`<p id=${`${id}-error`} class="field-error" role="alert">${this._errors.get(m.name)}</p>`
        : nothing}
    </li>`;
  }
}

/** The execution modes the shell offers. */
const RUN_MODES = ['worker', 'iframe', 'inpage'] as const;
type RunMode = (typeof RUN_MODES)[number];

/** What is configured for a module (`kernel.configure`), in a line; nothing when nothing is. */
function configSummary(m: ModuleInfo) {
  const c = m.config;
  const parts: string[] = [];
  if (c.autostart !== undefined) parts.push(c.autostart ? 'starts at boot' : 'not at boot');
  if (c.startOrder !== undefined) parts.push(`order ${c.startOrder}`);
  if (c.restart !== undefined) parts.push(`restart ${c.restart.restart}${c.restart.intensity !== undefined ? ` ×${c.restart.intensity}` : ''}`);
  if (c.watchdogMs !== undefined) parts.push(`watchdog ${c.watchdogMs} ms`);
  if (c.mode !== undefined) parts.push(`mode ${c.mode}`);
  if (c.args !== undefined) parts.push(`args ${joinArgs(c.args)}`);
  if (m.migratable !== undefined) parts.push('migratable');
  if (parts.length === 0) return nothing;
  return html`<p class="config-summary"><span class="visually-hidden">Configured: </span>${parts.join(' · ')}</p>`;
}

/**
 * Whether the shell offers `mode` for a module: the page itself needs the person's `run:inpage`
 * grant; a JS module (not sandboxed by construction) runs outside the container only when
 * granted `run:worker` or `run:inpage`.
 */
function runnableIn(m: ModuleInfo, mode: RunMode): boolean {
  const granted = (m.grants.run ?? []).includes(mode);
  if (m.kind === 'js') return mode === 'iframe' || granted;
  return mode !== 'inpage' || granted;
}

/** A string safe to use in an element id. */
function cssId(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

customElements.define('webmk-registry', RegistryView);
