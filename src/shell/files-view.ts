/**
 * The Files view: every module that works with files, with its home (kept across runs in the
 * origin-private file system, opened with Files…) and the folder of the person's it gets at
 * `/data` (Mount a folder…, Unmount). The same actions as on a module's card, gathered in one place.
 */
import { LitElement, html } from 'lit';
import type { ModuleInfo } from '../kernel';
import { emit } from './events';

/** `<webmk-files-view>`: give it the modules and the mounted folders' names by module. */
export class FilesView extends LitElement {
  static override properties = {
    modules: { attribute: false },
    folders: { attribute: false },
  };

  declare modules: ModuleInfo[];
  declare folders: ReadonlyMap<string, string>;

  constructor() {
    super();
    this.modules = [];
    this.folders = new Map();
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    const withFiles = this.modules.filter((m) => (m.command && m.capabilities.includes('files')) || this.folders.has(m.name));
    if (withFiles.length === 0) {
      return html`<p class="empty">No installed module works with files. Install <code>files</code> from the examples: it gets a home at <code>/home</code>.</p>`;
    }
    return html`<p class="hint">A module's home is its own folder, kept across runs and reloads; a folder of yours is given to its runs at <code>/data</code>.</p>
      <ul class="cards files-list">
        ${withFiles.map((m) => {
          const folder = this.folders.get(m.name);
          return html`<li class="card files-entry" data-name=${m.name}>
            <div class="files-entry-head">
              <strong class="name">${m.name}</strong>
              <button type="button" class="small" aria-label=${`Browse the home of ${m.name}`} @click=${() => emit(this, 'webmk-files', { name: m.name })}>Home…</button>
            </div>
            <p class="folder-row">
              ${folder === undefined
                ? html`<span class="hint">No folder of yours.</span>
                    <button type="button" class="small quiet" aria-label=${`Mount a folder for ${m.name}`} @click=${() => emit(this, 'webmk-mount-folder', { name: m.name })}>Mount a folder…</button>`
                : html`<span class="mounted-folder">Folder <code>${folder}</code> at <code>/data</code></span>
                    <button type="button" class="small quiet" aria-label=${`Unmount the folder of ${m.name}`} @click=${() => emit(this, 'webmk-mount-folder', { name: m.name, drop: true })}>
                      Unmount
                    </button>`}
            </p>
          </li>`;
        })}
      </ul>`;
  }
}

customElements.define('webmk-files-view', FilesView);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-files-view': FilesView;
  }
}
