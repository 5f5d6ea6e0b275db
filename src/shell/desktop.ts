/**
 * The desktop: header, banners, drop target, and the sections (modules, examples, terminals,
 * processes). It owns the shell's state and every call into the kernel; the views below it only
 * render and send events up.
 */
import { LitElement, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { KernelApi, ModuleInfo, ProcessInfo } from '../kernel';
import { describeError, formatKiB } from './format';
import { BusWatch } from './bus-watch';
import type { CommandStage } from './command-line';
import { PermissionPrompts } from './permission-prompts';
import { fetchExample, loadExamples, type Example } from './examples';
import type { Session, TerminalWindow } from './terminal-window';
import { Toasts } from './toasts';
import type { ShellBoot } from './types';
import './examples';
import './registry-view';
import './process-list';
import './terminal-window';
import './gfx-window';
import './bus-view';
import './command-bar';
import './grant-dialog';

export class Desktop extends LitElement {
  static override properties = {
    kernel: { attribute: false },
    boot: { attribute: false },
    _modules: { state: true },
    _loaded: { state: true },
    _examples: { state: true },
    _busy: { state: true },
    _processes: { state: true },
    _sessions: { state: true },
    _dragging: { state: true },
    _update: { state: true },
    _now: { state: true },
  };

  declare kernel: KernelApi | undefined;
  declare boot: ShellBoot | undefined;
  declare _modules: ModuleInfo[];
  declare _loaded: boolean;
  declare _examples: Example[];
  declare _busy: ReadonlySet<string>;
  declare _processes: ProcessInfo[];
  declare _sessions: Session[];
  declare _dragging: boolean;
  declare _update: boolean;
  declare _now: number;

  #toasts = new Toasts(this);
  #prompts = new PermissionPrompts(this, () => this.#kernel(), this.#toasts);
  #bus = new BusWatch(this, this.#toasts);
  #dragDepth = 0;
  #tick: ReturnType<typeof setInterval> | undefined;
  #detach: (() => void)[] = [];

  constructor() {
    super();
    this.kernel = undefined;
    this.boot = undefined;
    this._modules = [];
    this._loaded = false;
    this._examples = [];
    this._busy = new Set();
    this._processes = [];
    this._sessions = [];
    this._dragging = false;
    this._update = false;
    this._now = Date.now();
    this.addEventListener('webmk-run', (e) => void this.#run(e.detail.name, e.detail.args));
    this.addEventListener('webmk-uninstall', (e) => void this.#uninstall(e.detail.name));
    this.addEventListener('webmk-install-example', (e) => void this.#installExample(e.detail.example));
    this.addEventListener('webmk-kill', (e) => void this.#kill(e.detail.pid));
    this.addEventListener('webmk-close', (e) => void this.#close(e.detail.pid));
    this.addEventListener('webmk-pipeline', (e) => void this.#runPipeline(e.detail.stages, e.detail.line));
    this.addEventListener('webmk-permissions', (e) => this.#askPermissions(e.detail.name));
    this.addEventListener('webmk-grant', (e) => void this.#prompts.answer(e.detail.name, e.detail.permissions));
    this.addEventListener('webmk-bus-open', (e) => this.#bus.setOpen(e.detail.open));
    this.addEventListener('webmk-declare-global', (e) => this.#bus.declareGlobal(e.detail.pattern));
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const on = <K extends keyof WindowEventMap>(type: K, fn: (e: WindowEventMap[K]) => void) => {
      window.addEventListener(type, fn);
      this.#detach.push(() => window.removeEventListener(type, fn));
    };
    on('dragenter', (e) => this.#onDrag(e, 1));
    on('dragover', (e) => this.#onDrag(e, 0));
    on('dragleave', (e) => this.#onDrag(e, -1));
    on('drop', (e) => this.#onDrop(e));
    this.#attach();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.#detach.splice(0)) off();
    this.#attached = undefined;
    this.#stopTick();
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('kernel') || changed.has('boot')) this.#attach();
  }

  #attached: { kernel: KernelApi; boot: ShellBoot } | undefined;

  /** Subscribes to the kernel and the boot handle once both are set (and the element is in the page). */
  #attach(): void {
    const { kernel, boot } = this;
    if (kernel === undefined || boot === undefined || !this.isConnected) return;
    if (this.#attached?.kernel === kernel && this.#attached.boot === boot) return;
    this.#attached = { kernel, boot };
    const listen = (target: EventTarget, type: string, fn: () => void) => {
      target.addEventListener(type, fn);
      this.#detach.push(() => target.removeEventListener(type, fn));
    };
    listen(kernel, 'modules', () => void this.#refreshModules());
    listen(kernel, 'processes', () => this.#refreshProcesses());
    listen(boot, 'status', () => this.requestUpdate());
    listen(boot, 'update-available', () => (this._update = true));
    this.#detach.push(this.#bus.attach(kernel));
    this._update = boot.updateAvailable === true;
    void loadExamples().then((ex) => (this._examples = ex));
    this.#refreshProcesses();
    kernel.ready.then(
      () => this.#refreshModules(),
      (e: unknown) => {
        this._loaded = true;
        this.#toasts.show('error', `The kernel did not start: ${describeError(e)}`);
      },
    );
  }

  async #refreshModules(): Promise<void> {
    if (this.kernel === undefined) return;
    try {
      this._modules = await this.kernel.modules();
    } catch (e) {
      this.#toasts.show('error', `Could not read the registry: ${describeError(e)}`);
    }
    this._loaded = true;
  }

  #refreshProcesses(): void {
    if (this.kernel === undefined) return;
    this._processes = this.kernel.processes();
    this._now = Date.now();
    const running = this._processes.some((p) => p.state !== 'exited');
    if (running && this.#tick === undefined) {
      this.#tick = setInterval(() => (this._now = Date.now()), 1000);
    } else if (!running) {
      this.#stopTick();
    }
  }

  #stopTick(): void {
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#tick = undefined;
  }

  #onDrag(e: DragEvent, step: number): void {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    if (e.type === 'dragover') e.dataTransfer.dropEffect = 'copy';
    this.#dragDepth = Math.max(0, this.#dragDepth + step);
    this._dragging = e.type === 'dragleave' ? this.#dragDepth > 0 : true;
  }

  #onDrop(e: DragEvent): void {
    this.#dragDepth = 0;
    this._dragging = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    void this.#installFiles(files);
  }

  /** Installs files as a drop does (asking for permissions); the app's "open with" uses it. */
  async installFiles(files: File[]): Promise<void> {
    return this.#installFiles(files);
  }

  async #installFiles(files: File[]): Promise<void> {
    for (const file of files) {
      await this.#install(file.name, () => this.#kernel().install(file));
    }
  }

  async #installExample(ex: Example): Promise<void> {
    this._busy = new Set([...this._busy, ex.name]);
    await this.#install(ex.name, async () => this.#kernel().install(await fetchExample(ex), { name: ex.name }));
    const busy = new Set(this._busy);
    busy.delete(ex.name);
    this._busy = busy;
  }

  async #install(label: string, install: () => Promise<ModuleInfo>): Promise<void> {
    try {
      const m = await install();
      this.#toasts.show('ok', `Installed ${m.name}${m.version ? ` ${m.version}` : ''} (${formatKiB(m.size)}).`);
      // Installed with nothing granted; the person chooses what it may do.
      this.#prompts.ask(m, 'install');
      await this.#refreshModules();
    } catch (e) {
      this.#toasts.show('error', `Could not install ${label}: ${describeError(e)}`);
    }
  }

  #kernel(): KernelApi {
    if (this.kernel === undefined) throw new Error('the kernel is not attached yet');
    return this.kernel;
  }

  async #run(name: string, args: string[]): Promise<void> {
    try {
      // A module that works with files gets an empty scratch directory at `/`, so `files ls /`
      // lists something instead of failing for lack of any preopened directory.
      const wantsFiles = this._modules.find((m) => m.name === name)?.capabilities.includes('files') === true;
      const process = await this.#kernel().spawn(name, { args, tty: true, ...(wantsFiles ? { preopens: ['/'] } : {}) });
      await this.#openSession({ pid: process.pid, name, args, process });
    } catch (e) {
      this.#toasts.show('error', `Could not run ${name}: ${describeError(e)}`);
    }
  }

  /** Runs `a | b | c` in one window: typing goes to the first stage, every stage's errors show. */
  async #runPipeline(stages: CommandStage[], line: string): Promise<void> {
    try {
      const procs = await this.#kernel().pipeline(stages.map((s) => ({ name: s.name, args: s.args })));
      const [first] = procs;
      const head = stages[0];
      if (first === undefined || head === undefined) return;
      const pipeline = { line, stages: procs.map((process, i) => ({ name: stages[i]?.name ?? '', process })) };
      await this.#openSession({ pid: first.pid, name: head.name, args: head.args, process: first, pipeline });
    } catch (e) {
      this.#toasts.show('error', `Could not run ${line}: ${describeError(e)}`);
    }
  }

  /** Adds a terminal window for `session`, shows it and gives it the keyboard. */
  async #openSession(session: Session): Promise<void> {
    this._sessions = [...this._sessions, session];
    this.#refreshProcesses();
    await this.updateComplete;
    const win = this.#window(session.pid);
    if (win !== undefined) {
      await win.updateComplete;
      win.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      win.focusTerminal();
    }
  }

  #askPermissions(name: string): void {
    const m = this._modules.find((x) => x.name === name);
    if (m !== undefined) this.#prompts.ask(m, 'change');
  }

  async #uninstall(name: string): Promise<void> {
    try {
      await this.#kernel().uninstall(name);
      this.#toasts.show('ok', `Uninstalled ${name}.`);
      await this.#refreshModules();
    } catch (e) {
      this.#toasts.show('error', `Could not uninstall ${name}: ${describeError(e)}`);
    }
  }

  async #kill(pid: number): Promise<void> {
    try {
      await this.kernel?.kill(pid);
    } catch (e) {
      this.#toasts.show('error', `Could not kill pid ${pid}: ${describeError(e)}`);
    }
  }

  async #close(pid: number): Promise<void> {
    const index = this._sessions.findIndex((s) => s.pid === pid);
    const session = this._sessions[index];
    if (session === undefined) return;
    const pids = session.pipeline?.stages.map((s) => s.process.pid) ?? [pid];
    const running = pids.filter((p) => this._processes.find((x) => x.pid === p)?.state !== 'exited');
    this._sessions = this._sessions.filter((s) => s.pid !== pid);
    await this.updateComplete;
    // Keep keyboard focus nearby: the next window, or the section heading.
    const next = this._sessions[Math.min(index, this._sessions.length - 1)];
    if (next !== undefined) this.#window(next.pid)?.focusTerminal();
    else this.querySelector<HTMLElement>('#terminals-heading')?.focus();
    await Promise.all(running.map((p) => this.#kill(p)));
  }

  #window(pid: number): TerminalWindow | undefined {
    return [...this.querySelectorAll('webmk-terminal')].find((w) => w.session?.pid === pid);
  }

  #pickFiles = (): void => {
    this.querySelector<HTMLInputElement>('#install-input')?.click();
  };

  #picked = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    void this.#installFiles(files);
  };

  protected override render() {
    const installed = new Set(this._modules.map((m) => m.name));
    const exampleArgs = new Map(this._examples.map((ex) => [ex.name, ex.args]));
    const killable = new Set(this._processes.filter((p) => p.state !== 'exited').map((p) => p.pid));
    return html`
      ${this.#header()} ${this.#banners()}
      <main class="layout">
        <div class="column side">
          <section class="panel" aria-labelledby="modules-heading">
            <h2 id="modules-heading">Modules</h2>
            <webmk-registry .modules=${this._modules} ?loaded=${this._loaded} .defaultArgs=${exampleArgs}></webmk-registry>
          </section>
          <section class="panel" aria-labelledby="examples-heading">
            <h2 id="examples-heading">Examples</h2>
            <webmk-examples .examples=${this._examples} .installed=${installed} .busy=${this._busy}></webmk-examples>
          </section>
        </div>
        <div class="column work">
          <section class="panel" aria-labelledby="command-heading">
            <h2 id="command-heading">Command line</h2>
            <webmk-command-bar></webmk-command-bar>
          </section>
          <section class="panel" aria-labelledby="processes-heading">
            <h2 id="processes-heading">Processes</h2>
            <webmk-processes .processes=${this._processes} .killable=${killable} .now=${this._now}></webmk-processes>
          </section>
          <section class="panel bus-panel" aria-labelledby="bus-heading">
            <webmk-bus-view ?open=${this.#bus.open} .stats=${this.#bus.stats} .denied=${this.#bus.denied}></webmk-bus-view>
          </section>
          <section class="panel terminals" aria-labelledby="terminals-heading">
            <h2 id="terminals-heading" tabindex="-1">Terminals</h2>
            ${this._sessions.length === 0
              ? html`<p class="empty">Run a module and its terminal opens here.</p>`
              : html`<div class="term-grid">
                  ${repeat(
                    this._sessions,
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
                </div>`}
          </section>
        </div>
      </main>
      <webmk-gfx-layer .kernel=${this.kernel}></webmk-gfx-layer>
      <div class="drop-overlay" ?hidden=${!this._dragging} aria-hidden="true">
        <p>Drop .wasm files to install</p>
      </div>
      <webmk-grant-dialog .prompt=${this.#prompts.current}></webmk-grant-dialog>
      ${this.#toasts.render()}
    `;
  }

  #header() {
    const status = this.boot?.status;
    const sw = status?.serviceWorker;
    const swText = sw === 'active' ? 'works offline' : sw === 'installing' ? 'getting ready for offline use' : '';
    return html`<header class="topbar">
      <h1 class="brand">webmk</h1>
      ${status === undefined
        ? nothing
        : html`<span
            class="iso-chip ${status.isolated ? 'ok' : 'bad'}"
            title=${status.isolated ? 'Cross-origin isolated: SharedArrayBuffer is available' : (status.reason ?? '')}
          >
            ${status.isolated ? 'isolated' : 'not isolated'}${swText ? html`<span class="sw"> · ${swText}</span>` : nothing}
          </span>`}
      <span class="spacer"></span>
      <button type="button" class="primary" @click=${this.#pickFiles}>Install .wasm…</button>
      <input
        id="install-input"
        type="file"
        accept=".wasm,application/wasm"
        multiple
        hidden
        aria-label="Choose .wasm files to install"
        @change=${this.#picked}
      />
    </header>`;
  }

  #banners() {
    const status = this.boot?.status;
    return html`
      ${this._update
        ? html`<div class="banner update" role="status">
            <span>A new version is available</span> —
            <button type="button" class="small primary" @click=${() => this.boot?.applyUpdate()}>Reload</button>
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
}

customElements.define('webmk-desktop', Desktop);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-desktop': Desktop;
    'webmk-terminal': TerminalWindow;
  }
}
