/**
 * The Files… dialog: a module's home (the directory handle `kernel.home` gives) as a person sees
 * it. Lists a directory, enters sub-directories and goes back up, uploads files into it, makes a
 * folder, downloads a file, renames an entry, and deletes one (a folder with all in it) after
 * asking. It works only on the handle it is given.
 */
import { LitElement, html, nothing } from 'lit';
import { emit } from './events';
import { badName, renameEntry } from './files-ops';
import { describeError, formatKiB } from './format';
import { wrapTab } from './focus-trap';

/** The module whose home is shown, and that home. */
export interface FilesView {
  module: string;
  home: FileSystemDirectoryHandle;
}

interface Entry {
  name: string;
  kind: 'file' | 'directory';
  size?: number;
}

/** Shows `view` in a modal `<dialog>`; closed while `view` is undefined. */
export class FilesDialog extends LitElement {
  static override properties = {
    view: { attribute: false },
    _path: { state: true },
    _entries: { state: true },
    _confirming: { state: true },
    _renaming: { state: true },
    _error: { state: true },
  };

  declare view: FilesView | undefined;
  /** The directories entered below the home, outermost first. */
  declare _path: FileSystemDirectoryHandle[];
  declare _entries: Entry[] | undefined;
  /** The entry whose deletion waits for a yes. */
  declare _confirming: string | undefined;
  /** The entry being renamed (its name field shows). */
  declare _renaming: string | undefined;
  declare _error: string | undefined;
  #opener: HTMLElement | null = null;

  constructor() {
    super();
    this.view = undefined;
    this._path = [];
    this._entries = undefined;
    this._confirming = undefined;
    this._renaming = undefined;
    this._error = undefined;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('view')) return;
    const before = changed.get('view') as FilesView | undefined;
    if (this.view !== undefined && before?.home !== this.view.home) {
      this._path = [];
      this._confirming = undefined;
      this._error = undefined;
      void this.#list();
    }
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('view')) return;
    const dialog = this.querySelector('dialog');
    if (dialog === null) return;
    if (this.view !== undefined && !dialog.open) {
      const active = document.activeElement;
      this.#opener = active instanceof HTMLElement && active !== document.body ? active : null;
      dialog.showModal();
      this.querySelector<HTMLElement>('.files-close')?.focus();
    } else if (this.view === undefined && dialog.open) {
      dialog.close();
      const opener = this.#opener;
      this.#opener = null;
      if (opener?.isConnected === true) opener.focus();
    }
  }

  /** The directory shown now. */
  #dir(): FileSystemDirectoryHandle | undefined {
    return this._path[this._path.length - 1] ?? this.view?.home;
  }

  /** Reads the directory shown now, directories first, then by name. */
  async #list(): Promise<void> {
    const dir = this.#dir();
    if (dir === undefined) return;
    try {
      const entries: Entry[] = [];
      for await (const h of dir.values()) {
        if (h.kind === 'file') entries.push({ name: h.name, kind: 'file', size: (await (h as FileSystemFileHandle).getFile()).size });
        else entries.push({ name: h.name, kind: 'directory' });
      }
      entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1));
      if (dir === this.#dir()) this._entries = entries;
    } catch (e) {
      this._error = `Could not read the folder: ${describeError(e)}`;
    }
  }

  async #do(what: string, act: (dir: FileSystemDirectoryHandle) => Promise<void>): Promise<void> {
    const dir = this.#dir();
    if (dir === undefined) return;
    this._error = undefined;
    try {
      await act(dir);
    } catch (e) {
      this._error = `Could not ${what}: ${describeError(e)}`;
    }
    await this.#list();
  }

  #enter(name: string): void {
    void this.#do(`open ${name}`, async (dir) => {
      this._path = [...this._path, await dir.getDirectoryHandle(name)];
    });
  }

  #up(depth: number): void {
    this._path = this._path.slice(0, depth);
    this._confirming = undefined;
    this._error = undefined;
    void this.#list();
  }

  #upload(input: HTMLInputElement): void {
    const files = [...(input.files ?? [])];
    input.value = '';
    void this.#do('upload', async (dir) => {
      for (const file of files) {
        const w = await (await dir.getFileHandle(file.name, { create: true })).createWritable();
        await w.write(file);
        await w.close();
      }
    });
  }

  #download(name: string): void {
    void this.#do(`download ${name}`, async (dir) => {
      const file = await (await dir.getFileHandle(name)).getFile();
      const url = URL.createObjectURL(file);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    });
  }

  #delete(name: string): void {
    this._confirming = undefined;
    void this.#do(`delete ${name}`, (dir) => dir.removeEntry(name, { recursive: true }));
  }

  /** Makes a folder named by the New folder field; a bad or taken name is said, nothing made. */
  #makeFolder(e: Event): void {
    e.preventDefault();
    const field = this.querySelector<HTMLInputElement>('.files-new-name');
    const name = field?.value.trim() ?? '';
    void this.#do(`make the folder ${name}`, async (dir) => {
      const why = await badName(dir, name);
      if (why !== '') throw new Error(why);
      await dir.getDirectoryHandle(name, { create: true });
      if (field !== null) field.value = '';
    });
  }

  #rename(e: Event, entry: Entry): void {
    e.preventDefault();
    const to = this.querySelector<HTMLInputElement>('.files-rename-name')?.value.trim() ?? '';
    if (to === entry.name) {
      this._renaming = undefined;
      return;
    }
    void this.#do(`rename ${entry.name}`, async (dir) => {
      const why = await badName(dir, to);
      if (why !== '') throw new Error(why);
      await renameEntry(dir, entry.name, entry.kind, to);
      this._renaming = undefined;
    });
  }

  #startRename(name: string): void {
    this._confirming = undefined;
    this._renaming = name;
    void this.updateComplete.then(() => this.querySelector<HTMLInputElement>('.files-rename-name')?.select());
  }

  #close = (e?: Event): void => {
    e?.preventDefault();
    emit(this, 'webmk-files-close', {});
  };

  protected override render() {
    return html`<dialog
      class="files-dialog"
      aria-labelledby="files-title"
      @cancel=${this.#close}
      @keydown=${(e: KeyboardEvent) => wrapTab(e.currentTarget as HTMLElement, e)}
    >
      ${this.view === undefined ? nothing : this.#body(this.view)}
    </dialog>`;
  }

  #body(v: FilesView) {
    const crumbs = ['home', ...this._path.map((d) => d.name)];
    return html`<form method="dialog" @submit=${this.#close}>
      <h2 id="files-title">Files of <code>${v.module}</code></h2>
      <p class="note-muted">Its home: what it sees at <code>/home</code> when run with its home mounted.</p>
      <nav class="files-path" aria-label="Folder">
        ${crumbs.map((c, i) =>
          i === crumbs.length - 1
            ? html`<span aria-current="location">${c}</span>`
            : html`<button type="button" class="small quiet crumb" @click=${() => this.#up(i)}>${c}</button><span aria-hidden="true">/</span>`,
        )}
      </nav>
      ${this._entries === undefined
        ? html`<p class="empty">Reading…</p>`
        : this._entries.length === 0
          ? html`<p class="empty">This folder is empty.</p>`
          : html`<ul class="files-list">
              ${this._entries.map((e) => this.#entry(e))}
            </ul>`}
      ${this._error !== undefined ? html`<p class="field-error" role="alert">${this._error}</p>` : nothing}
      <div class="files-new" role="group" aria-label="New folder">
        <label for="files-new-name">New folder</label>
        <input id="files-new-name" class="files-new-name" type="text" autocomplete="off" spellcheck="false" @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.#makeFolder(e)} />
        <button type="button" class="small files-make" @click=${(e: Event) => this.#makeFolder(e)}>Make folder</button>
      </div>
      <div class="dialog-actions">
        <label class="files-upload">
          <span>Upload into this folder</span>
          <input type="file" multiple @change=${(e: Event) => this.#upload(e.target as HTMLInputElement)} />
        </label>
        <button type="submit" class="primary files-close">Close</button>
      </div>
    </form>`;
  }

  #entry(e: Entry) {
    const confirming = this._confirming === e.name;
    if (this._renaming === e.name) {
      return html`<li class="files-entry" data-name=${e.name} data-kind=${e.kind}>
        <span class="files-rename" role="group" aria-label=${`Rename ${e.name}`}>
          <input
            class="files-rename-name"
            type="text"
            aria-label=${`New name of ${e.name}`}
            .value=${e.name}
            autocomplete="off"
            spellcheck="false"
            @keydown=${(ev: KeyboardEvent) => ev.key === 'Enter' && this.#rename(ev, e)}
          />
          <button type="button" class="small primary save-name" @click=${(ev: Event) => this.#rename(ev, e)}>Save name</button>
          <button type="button" class="small cancel" @click=${() => (this._renaming = undefined)}>Cancel</button>
        </span>
      </li>`;
    }
    return html`<li class="files-entry" data-name=${e.name} data-kind=${e.kind}>
      ${e.kind === 'directory'
        ? html`<button type="button" class="small quiet files-open" @click=${() => this.#enter(e.name)}>${e.name}/</button>`
        : html`<span class="files-name">${e.name}</span>`}
      <span class="meta">${e.size === undefined ? 'folder' : e.size < 1024 ? `${e.size} B` : formatKiB(e.size)}</span>
      ${confirming
        ? html`<span class="confirm" role="group" aria-label=${`Confirm deleting ${e.name}`}>
            <span>Delete ${e.name}${e.kind === 'directory' ? ' and all in it' : ''}?</span>
            <button type="button" class="small danger yes" @click=${() => this.#delete(e.name)}>Yes, delete</button>
            <button type="button" class="small cancel" @click=${() => (this._confirming = undefined)}>Cancel</button>
          </span>`
        : html`<span class="card-actions">
            ${e.kind === 'file'
              ? html`<button type="button" class="small quiet download" aria-label=${`Download ${e.name}`} @click=${() => this.#download(e.name)}>
                  Download
                </button>`
              : nothing}
            <button type="button" class="small quiet rename" aria-label=${`Rename ${e.name}`} @click=${() => this.#startRename(e.name)}>Rename</button>
            <button type="button" class="small quiet delete" aria-label=${`Delete ${e.name}`} @click=${() => (this._confirming = e.name)}>
              Delete
            </button>
          </span>`}
    </li>`;
  }
}

customElements.define('webmk-files-dialog', FilesDialog);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-files-dialog': FilesDialog;
  }
}
