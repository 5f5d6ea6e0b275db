/**
 * The desktop: a workbench (workbench.ts) of a header, an activity bar picking one view at a time
 * (modules, processes, bus, services, nodes), the main area (command line, terminals) and a
 * status line, plus the drop target and the dialogs. It puts together the pieces that own the shell's state and every call into the
 * kernel (kernel-feed, module-actions, terminal-sessions, file-intake, the prompts, the bus
 * watch, the toasts), routes the views' events to them, and lays out the page.
 */
import { LitElement, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { KernelApi } from '../kernel';
import { BusWatch } from './bus-watch';
import { renderBanners, renderHeader } from './desktop-header';
import { FileIntake } from './file-intake';
import { KernelFeed } from './kernel-feed';
import { ModuleActions } from './module-actions';
import { PermissionPrompts } from './permission-prompts';
import { ProcessActions } from './process-actions';
import { TerminalSessions } from './terminal-sessions';
import { Toasts } from './toasts';
import type { ShellBoot } from './types';
import { isView, NARROW, renderActivityBar, renderStatusLine, VIEWS, type ViewId } from './workbench';
import './examples';
import './registry-view';
import './packages-view';
import './untrusted-dialog';
import './process-list';
import './terminal-window';
import './gfx-layer';
import './devices-panel';
import type { DevicesControl } from './devices-panel';
import './bus-view';
import './services-view';
import './command-bar';
import './grant-dialog';
import './remote-request-dialog';
import './config-dialog';
import './files-dialog';
import './nodes-view';
import './files-view';
import { applyStoredSettings } from './settings-view';

/** The `<webmk-desktop>` element: the whole shell; `mountShell` gives it its kernel and boot handle. */
export class Desktop extends LitElement {
  static override properties = {
    kernel: { attribute: false },
    boot: { attribute: false },
    devices: { attribute: false },
  };

  declare kernel: KernelApi | undefined;
  declare boot: ShellBoot | undefined;
  /** The page's devices switch, for the Devices panel (main.ts sets it). */
  declare devices: DevicesControl | undefined;

  #toasts = new Toasts(this);
  #feed = new KernelFeed(this, () => this.kernel, this.#toasts);
  #prompts = new PermissionPrompts(this, () => this.#feed.need(), this.#toasts);
  #bus = new BusWatch(this, this.#toasts);
  #modules = new ModuleActions(this, this.#feed, this.#prompts, this.#toasts);
  #sessions = new TerminalSessions(this, this.#feed, this.#toasts);
  #procs = new ProcessActions(this.#feed, this.#sessions, this.#toasts);
  #files = new FileIntake(this, (files) => this.#modules.installFiles(files));
  #attached: { kernel: KernelApi; boot: ShellBoot } | undefined;
  #detach: (() => void)[] = [];
  /** The view the side area shows (remembered across visits). */
  #side: Exclude<ViewId, 'terminals'> = 'modules';
  /** Narrow screens only: the terminals show instead of the side view. */
  #terminalsShown = false;
  #narrow = matchMedia(NARROW);
  #sessionCount = 0;

  constructor() {
    super();
    this.devices = undefined;
    this.kernel = undefined;
    this.boot = undefined;
    this.addEventListener('webmk-run', (e) => void this.#sessions.run(e.detail.name, e.detail.args, e.detail.mode, e.detail.node));
    this.addEventListener('webmk-mount-folder', (e) => void this.#sessions.mountFolder(e.detail.name, e.detail.drop === true));
    this.addEventListener('webmk-uninstall', (e) => void this.#modules.uninstall(e.detail.name));
    this.addEventListener('webmk-install-example', (e) => void this.#modules.installExample(e.detail.example));
    this.addEventListener('webmk-kill', (e) => void this.#sessions.kill(e.detail.pid));
    this.addEventListener('webmk-restart', (e) => void this.#sessions.restart(e.detail.pid));
    this.addEventListener('webmk-hibernate', (e) => void this.#procs.hibernate(e.detail.pid));
    this.addEventListener('webmk-resume', (e) => void this.#procs.resume(e.detail.pid));
    this.addEventListener('webmk-move', (e) => void this.#procs.move(e.detail.pid, e.detail.mode, e.detail.node));
    this.addEventListener('webmk-close', (e) => void this.#sessions.close(e.detail.pid));
    this.addEventListener('webmk-pipeline', (e) => void this.#sessions.runPipeline(e.detail.stages, e.detail.line));
    this.addEventListener('webmk-permissions', (e) => this.#modules.askPermissions(e.detail.name));
    this.addEventListener('webmk-grant', (e) => void this.#prompts.answer(e.detail.name, e.detail.permissions));
    this.addEventListener('webmk-uninstall-package', (e) => void this.#modules.uninstallPackage(e.detail.name, e.detail.force));
    this.addEventListener('webmk-trust', (e) => void this.#modules.trust(e.detail.publicKey, e.detail.add, e.detail.label));
    this.addEventListener('webmk-install-url', (e) => void this.#modules.installUrl(e.detail.url));
    this.addEventListener('webmk-export-package', (e) => void this.#modules.exportPackage(e.detail.name));
    this.addEventListener('webmk-untrusted-answer', (e) => void this.#modules.answerUntrusted(e.detail.answer));
    this.addEventListener('webmk-configure', (e) => this.#modules.configure(e.detail.name));
    this.addEventListener('webmk-config-answer', (e) => void this.#modules.saveConfig(e.detail.name, e.detail.config, e.detail.migratable));
    this.addEventListener('webmk-files', (e) => void this.#modules.browseFiles(e.detail.name));
    this.addEventListener('webmk-files-close', () => this.#modules.closeFiles());
    this.addEventListener('webmk-declare-global', (e) => this.#bus.declareGlobal(e.detail.pattern));
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const stored = localStorage.getItem('webmk-view');
    if (isView(stored) && stored !== 'terminals') this.#side = stored;
    // A pairing link opened here is for the Devices panel, in the Nodes view.
    if (location.hash.startsWith('#pair=')) this.#side = 'nodes';
    // The kernel records bus topics only while the Bus view is the one picked.
    this.#bus.setOpen(this.#side === 'bus');
    const relayout = (): void => this.requestUpdate();
    this.#narrow.addEventListener('change', relayout);
    const keys = (e: KeyboardEvent): void => this.#key(e);
    document.addEventListener('keydown', keys);
    const onlineChange = (): void => this.requestUpdate();
    addEventListener('online', onlineChange);
    addEventListener('offline', onlineChange);
    this.#detach.push(
      () => this.#narrow.removeEventListener('change', relayout),
      () => document.removeEventListener('keydown', keys),
      () => removeEventListener('online', onlineChange),
      () => removeEventListener('offline', onlineChange),
    );
    this.#attach();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.#detach.splice(0)) off();
    this.#attached = undefined;
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('kernel') || changed.has('boot')) this.#attach();
  }

  /** Installs files as a drop does (asking for permissions); the app's "open with" uses it. */
  async installFiles(files: File[]): Promise<void> {
    return this.#modules.installFiles(files);
  }

  /** Downloads and installs a module or package from a URL (asking first if no trusted key vouches for it). */
  async installUrl(url: string): Promise<void> {
    return this.#modules.installUrl(url);
  }

  /** Shows view `v` (`focus`: moves focus to its tab, as arrow keys on the bar do). */
  #select(v: ViewId, focus = false): void {
    if (v === 'terminals') this.#terminalsShown = true;
    else {
      this.#side = v;
      this.#terminalsShown = false;
      this.#bus.setOpen(v === 'bus');
      localStorage.setItem('webmk-view', v);
    }
    this.requestUpdate();
    if (focus) void this.updateComplete.then(() => this.querySelector<HTMLElement>(`#tab-${v}`)?.focus());
  }

  /** The workbench's keys: Alt+digit picks a view; Ctrl+K (or Cmd+K) goes to the command line. */
  #key(e: KeyboardEvent): void {
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      const v = VIEWS.find((x) => e.code === `Digit${x.key}`);
      if (v === undefined || (v.narrowOnly === true && !this.#narrow.matches)) return;
      e.preventDefault();
      this.#select(v.id, true);
      return;
    }
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
      // A terminal keeps its own keys: Ctrl+K there is the program's (readline's kill-line).
      if (e.target instanceof Element && e.target.closest('webmk-terminal') !== null) return;
      e.preventDefault();
      if (this.#narrow.matches) this.#select('terminals');
      void this.updateComplete.then(() => this.querySelector<HTMLInputElement>('webmk-command-bar input')?.focus());
    }
  }

  /** The view the bar shows as picked. */
  #current(): ViewId {
    return this.#terminalsShown && this.#narrow.matches ? 'terminals' : this.#side;
  }

  protected override updated(): void {
    // On a narrow screen a terminal that opens is shown (it has the keyboard).
    const n = this.#sessions.sessions.length;
    if (n > this.#sessionCount && this.#narrow.matches && !this.#terminalsShown) this.#select('terminals');
    this.#sessionCount = n;
  }

  /** Subscribes to the kernel and the boot handle once both are set (and the element is in the page). */
  #attach(): void {
    const { kernel, boot } = this;
    if (kernel === undefined || boot === undefined || !this.isConnected) return;
    if (this.#attached?.kernel === kernel && this.#attached.boot === boot) return;
    this.#attached = { kernel, boot };
    this.#detach.push(this.#feed.attach(kernel, boot), this.#bus.attach(kernel));
    applyStoredSettings(kernel);
  }

  protected override render() {
    const feed = this.#feed;
    // An example is a module or a package (sensors.zip): either counts as installed by its name.
    const installed = new Set([...feed.modules.map((m) => m.name), ...feed.packages.filter((p) => p.format === 'zip').map((p) => p.name)]);
    const exampleArgs = new Map(feed.examples.map((ex) => [ex.name, ex.args]));
    const killable = new Set(feed.processes.filter((p) => p.state !== 'exited').map((p) => p.pid));
    const status = this.boot?.status;
    const header = renderHeader(this.#files.pick, this.#files.picked);
    const banners = renderBanners(status, feed.update, () => this.boot?.applyUpdate());
    const current = this.#current();
    const side = this.#side;
    const running = feed.processes.filter((p) => p.state !== 'exited').length;
    // Of those, the ones hibernated hold no memory: the status line says so apart.
    const hibernated = feed.processes.filter((p) => p.state === 'hibernated').length;
    const pane = (id: ViewId, body: unknown) =>
      html`<div class="view" id=${`view-${id}`} role="tabpanel" aria-labelledby=${`tab-${id}`} ?hidden=${side !== id}>${body}</div>`;
    return html`
      ${header} ${banners}
      <div class="workbench" data-view=${current}>
        ${renderActivityBar(current, (v, focus) => this.#select(v, focus), { processes: running, nodes: feed.nodes.length })}
        <div class="sideview">
          ${pane(
            'modules',
            html`<section class="panel" aria-labelledby="modules-heading">
                <h2 id="modules-heading">Modules</h2>
                <webmk-registry .modules=${feed.modules} ?loaded=${feed.loaded} .defaultArgs=${exampleArgs} .nodes=${feed.nodes} .folders=${this.#sessions.folderNames()}></webmk-registry>
              </section>
              <section class="panel" aria-labelledby="packages-heading">
                <h2 id="packages-heading">Packages</h2>
                <webmk-packages .packages=${feed.packages} .keys=${feed.keys} .processes=${feed.processes} .fetching=${this.#modules.fetching}></webmk-packages>
              </section>
              <section class="panel" aria-labelledby="examples-heading">
                <h2 id="examples-heading">Examples</h2>
                <webmk-examples .examples=${feed.examples} .installed=${installed} .busy=${this.#modules.busy}></webmk-examples>
              </section>`,
          )}
          ${pane(
            'processes',
            html`<section class="panel" aria-labelledby="processes-heading">
              <h2 id="processes-heading">Processes</h2>
              <webmk-processes
                .processes=${feed.processes}
                .killable=${killable}
                .slots=${feed.slots}
                .migratable=${new Set(feed.modules.filter((m) => m.migratable !== undefined).map((m) => m.name))}
                .nodes=${feed.nodes}
                .now=${feed.now}
              ></webmk-processes>
            </section>`,
          )}
          ${pane(
            'bus',
            html`<section class="panel bus-panel" aria-labelledby="bus-heading">
              <webmk-bus-view ?open=${this.#bus.open} .stats=${this.#bus.stats} .denied=${this.#bus.denied}></webmk-bus-view>
            </section>`,
          )}
          ${pane(
            'services',
            html`<section class="panel services-panel" aria-labelledby="services-heading">
              <webmk-services-view .kernel=${this.kernel} ?active=${side === 'services'}></webmk-services-view>
            </section>`,
          )}
          ${pane(
            'files',
            html`<section class="panel" aria-labelledby="files-heading">
              <h2 id="files-heading">Files</h2>
              <webmk-files-view .modules=${feed.modules} .folders=${this.#sessions.folderNames()}></webmk-files-view>
            </section>`,
          )}
          ${pane(
            'nodes',
            html`<section class="panel" aria-labelledby="nodes-heading">
              <h2 id="nodes-heading">Nodes</h2>
              <webmk-nodes .self=${this.kernel?.node ?? ''} .nodes=${feed.nodes}></webmk-nodes>
              <h3 id="devices-heading">Devices</h3>
              <webmk-devices-panel .devices=${this.devices}></webmk-devices-panel>
            </section>`,
          )}
          ${pane(
            'settings',
            html`<section class="panel" aria-labelledby="settings-heading">
              <h2 id="settings-heading">Settings</h2>
              <webmk-settings-view .kernel=${this.kernel} ?active=${side === 'settings'}></webmk-settings-view>
            </section>`,
          )}
        </div>
        <main class="work" id="work-area" aria-label="Command line and terminals">
          <section class="panel" aria-labelledby="command-heading">
            <h2 id="command-heading">Command line</h2>
            <webmk-command-bar></webmk-command-bar>
          </section>
          <section class="panel terminals" aria-labelledby="terminals-heading">
            <h2 id="terminals-heading" tabindex="-1">Terminals</h2>
            ${this.#terminals()}
          </section>
        </main>
      </div>
      ${renderStatusLine({ status, running: running - hibernated, hibernated, slots: feed.slots, nodes: feed.nodes.length, online: navigator.onLine }, (v) => this.#select(v, true))}
      <webmk-gfx-layer .kernel=${this.kernel}></webmk-gfx-layer>
      <div class="drop-overlay" ?hidden=${!this.#files.dragging} aria-hidden="true">
        <p>Drop .wasm files to install (or .zip packages)</p>
      </div>
      <webmk-grant-dialog .prompt=${this.#prompts.current}></webmk-grant-dialog>
      <webmk-remote-request-dialog .kernel=${this.kernel}></webmk-remote-request-dialog>
      <webmk-untrusted-dialog .prompt=${this.#modules.untrusted}></webmk-untrusted-dialog>
      <webmk-config-dialog .prompt=${this.#modules.configuring}></webmk-config-dialog>
      <webmk-files-dialog .view=${this.#modules.browsing}></webmk-files-dialog>
      ${this.#toasts.render()}
    `;
  }

  #terminals() {
    const sessions = this.#sessions.sessions;
    return sessions.length === 0
      ? html`<p class="empty">Run a module and its terminal opens here.</p>`
      : html`<div class="term-grid">
          ${repeat(
            sessions,
            (s) => s.pid,
            (s) =>
              html`<webmk-terminal
                data-pid=${s.pid}
                data-name=${s.name}
                data-line=${s.pipeline?.line ?? nothing}
                .session=${s}
                .kernel=${this.kernel}
              ></webmk-terminal>`,
          )}
        </div>`;
  }
}

customElements.define('webmk-desktop', Desktop);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-desktop': Desktop;
  }
}
