/** The top of the desktop: the title bar (the install button) and the banners under it. */
import { html, nothing, type TemplateResult } from 'lit';
import type { BootStatus } from './types';

/** The title bar; `pick` opens the file picker (`#install-input`), `picked` takes its choice. Isolation and nodes are on the status line. */
export function renderHeader(pick: () => void, picked: (e: Event) => void): TemplateResult {
  return html`<header class="topbar">
    <h1 class="brand">webmk</h1>
    <span class="spacer"></span>
    <button type="button" class="primary" @click=${pick}>Install module…</button>
    <input
      id="install-input"
      type="file"
      accept=".wasm,.js,.mjs,.zip,application/wasm,text/javascript,application/zip"
      multiple
      hidden
      aria-label="Choose .wasm or .js modules to install"
      @change=${picked}
    />
  </header>`;
}

/** The banners: a new version waits (`update`), or the page cannot run modules (not isolated). */
export function renderBanners(status: BootStatus | undefined, update: boolean, applyUpdate: () => void): TemplateResult {
  return html`
    ${update
      ? html`<div class="banner update" role="status">
          <span>A new version is available</span> —
          <button type="button" class="small primary" @click=${applyUpdate}>Reload</button>
        </div>`
      : nothing}
    ${status !== undefined && !status.isolated
      ? html`<div class="banner warn" role="alert">
          <strong>Modules cannot run here.</strong>
          This page is not cross-origin isolated, so SharedArrayBuffer is unavailable, and modules
          need it to block on input without freezing the page.
          ${status.reason ? html`<span class="reason">Why: ${status.reason}</span>` : nothing}
        </div>`
      : nothing}
  `;
}
