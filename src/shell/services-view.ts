/**
 * The "Services and store" view: the service modules (no `_start`) with their functions, a form
 * to call one with text, here or on another node, and see its output, the key-value store by group (kept current by a
 * watch on every group), and the transforms registered. It reads all that only while `active`
 * (the desktop sets it while this view is the one picked).
 */
import { LitElement, html, nothing } from 'lit';
import { serviceSettings } from '../common';
import { KernelEvents, type KernelApi, type KvGroupInfo, type ModuleInfo, type NodeInfo, type ServiceStats, type TransformInfo } from '../kernel';

interface Entry {
  key: string;
  value: string;
}

/** Functions a service module serves: exported functions, not the `_`-prefixed plumbing. */
function servedFunctions(m: ModuleInfo): string[] {
  return m.exports.filter((e) => e.kind === 'function' && !e.name.startsWith('_')).map((e) => e.name);
}

/** What its manifest's Extism fields give a plugin, in words: hosts granted, memory limit, deadline, linked modules. */
function pluginTerms(m: ModuleInfo): string[] {
  const s = serviceSettings(m.manifest);
  if (typeof s === 'string') return [];
  const out: string[] = [];
  const hosts = m.grants.http ?? [];
  if (s.allowedHosts.length > 0) out.push(hosts.length > 0 ? `HTTP to ${hosts.join(', ')}` : 'HTTP asked for, not granted');
  if (s.memory.maxPages !== undefined) out.push(`memory at most ${s.memory.maxPages} pages (${(s.memory.maxPages * 64).toLocaleString('en-US')} KiB)`);
  if (s.timeoutMs !== undefined) out.push(`deadline ${s.timeoutMs} ms`);
  for (const w of s.wasm) out.push(`links ${w.module} as ${w.name}`);
  return out;
}

/** A value as the view shows it: text when it is text (or valid UTF-8), else its size. */
function showValue(v: Uint8Array | string | undefined): string {
  if (v === undefined) return '(deleted)';
  if (typeof v === 'string') return v;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(v);
  } catch {
    return `${v.length} bytes`;
  }
}

/** `<webmk-services-view>`: give it the kernel; it keeps its own state. */
export class ServicesView extends LitElement {
  static override properties = {
    kernel: { attribute: false },
    active: { type: Boolean },
    services: { state: true },
    groups: { state: true },
    group: { state: true },
    entries: { state: true },
    changed: { state: true },
    output: { state: true },
    transforms: { state: true },
    live: { state: true },
    nodes: { state: true },
  };

  declare kernel: KernelApi | undefined;
  /** Shown: it reads and watches only then. */
  declare active: boolean;
  declare services: ModuleInfo[];
  declare groups: KvGroupInfo[];
  declare group: string | undefined;
  declare entries: Entry[];
  /** Keys of the shown group changed since it was selected, newest first. */
  declare changed: string[];
  declare output: { ok: boolean; text: string } | undefined;
  declare transforms: TransformInfo[];
  /** Live instances by name, with calls per second over the last second. */
  declare live: Map<string, ServiceStats & { rate: number }>;
  /** Other nodes a call can be made on (ADR 0038). */
  declare nodes: NodeInfo[];
  #off: Array<() => void> = [];

  constructor() {
    super();
    this.kernel = undefined;
    this.active = false;
    this.services = [];
    this.groups = [];
    this.group = undefined;
    this.entries = [];
    this.changed = [];
    this.output = undefined;
    this.transforms = [];
    this.live = new Map();
    this.nodes = [];
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('active') && !changed.has('kernel')) return;
    this.#stop();
    if (this.active) this.#start();
  }

  #start(): void {
    const k = this.kernel;
    if (k === undefined) return;
    const modules = (): void => void this.#loadServices();
    const transforms = (): void => void (this.transforms = k.transforms.list());
    const nodes = (): void => void (this.nodes = k.nodes().filter((n) => n.connected));
    k.addEventListener(KernelEvents.modules, modules);
    k.addEventListener(KernelEvents.transforms, transforms);
    k.addEventListener(KernelEvents.nodes, nodes);
    this.#off.push(() => k.removeEventListener(KernelEvents.nodes, nodes));
    nodes();
    const unwatch = k.kv.watch('*', (keys, group) => {
      // Not from inside the notification: the store refuses that (kv/reentrant).
      queueMicrotask(() => void this.#storeChanged(group, keys));
    });
    this.#off.push(() => k.removeEventListener(KernelEvents.modules, modules), () => k.removeEventListener(KernelEvents.transforms, transforms), unwatch);
    // Counts are read once a second while the view is open: a call rate needs two readings.
    const timer = setInterval(() => this.#readStats(), 1000);
    this.#off.push(() => clearInterval(timer));
    this.#readStats();
    modules();
    transforms();
    void this.#loadGroups();
  }

  #stop(): void {
    for (const off of this.#off.splice(0)) off();
  }

  #readStats(): void {
    const before = this.live;
    const now = this.kernel?.serviceStats() ?? [];
    this.live = new Map(now.map((st) => [st.name, { ...st, rate: Math.max(0, st.calls - (before.get(st.name)?.calls ?? st.calls)) }]));
  }

  async #loadServices(): Promise<void> {
    const all = (await this.kernel?.modules()) ?? [];
    this.services = all.filter((m) => m.kind === 'wasm' && !m.command);
  }

  async #loadGroups(): Promise<void> {
    this.groups = ((await this.kernel?.kv.groups()) ?? []).sort((a, b) => a.group.localeCompare(b.group));
    if (this.group === undefined && this.groups[0] !== undefined) await this.#select(this.groups[0].group);
  }

  async #select(group: string): Promise<void> {
    const kv = this.kernel?.kv;
    if (kv === undefined) return;
    if (group !== this.group) this.changed = [];
    this.group = group;
    const keys = await kv.keys(group);
    this.entries = await Promise.all(keys.map(async (key) => ({ key, value: showValue(await kv.get(group, key)) })));
  }

  async #storeChanged(group: string, keys: string[]): Promise<void> {
    if (group === this.group) this.changed = [...keys, ...this.changed.filter((k) => !keys.includes(k))].slice(0, 20);
    await this.#loadGroups();
    if (this.group === group) await this.#select(group);
  }

  #call = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const [module, fn] = String(form.get('target') ?? '').split('\n');
    if (this.kernel === undefined || module === undefined || fn === undefined) return;
    this.output = undefined;
    try {
      const node = String(form.get('node') ?? '');
      const out = await this.kernel.call(module, fn, String(form.get('input') ?? ''), node === '' ? {} : { node });
      this.output = { ok: true, text: showValue(out) };
    } catch (err) {
      const x = err as { code?: string; message?: string };
      this.output = { ok: false, text: `${x.code ?? 'error'}: ${x.message ?? String(err)}` };
    }
  };

  #set = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    const f = e.target as HTMLFormElement;
    const form = new FormData(f);
    const group = String(form.get('group') ?? '').trim();
    const key = String(form.get('key') ?? '').trim();
    if (this.kernel === undefined || group === '' || key === '') return;
    try {
      await this.kernel.kv.set(group, key, String(form.get('value') ?? ''));
      (f.elements.namedItem('key') as HTMLInputElement).value = '';
      (f.elements.namedItem('value') as HTMLInputElement).value = '';
      await this.#select(group);
    } catch (err) {
      this.output = { ok: false, text: `${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}` };
    }
  };

  protected override render() {
    return html`<h2 id="services-heading">Services and store</h2>
      <div id="services-body">${this.active ? this.#body() : nothing}</div>`;
  }

  #body() {
    const targets = this.services.flatMap((m) => servedFunctions(m).map((fn) => ({ module: m.name, fn })));
    return html`
      <h3>Service modules</h3>
      ${this.services.length === 0
        ? html`<p class="empty">No service modules installed (a module without _start serves calls).</p>`
        : html`<ul class="cards service-list">
            ${this.services.map(
              (m) => html`<li class="card" data-service=${m.name}>
                <div class="card-head"><strong>${m.name}</strong> <span class="meta">${m.version}</span></div>
                <p class="meta">${servedFunctions(m).join(', ') || 'no functions'}</p>
                ${pluginTerms(m).length > 0 ? html`<p class="meta plugin-terms">${pluginTerms(m).join(' · ')}</p>` : nothing}
                ${this.#liveLine(m.name)}
              </li>`,
            )}
          </ul>
          <form class="call-form" @submit=${this.#call}>
            <label for="call-target">Function</label>
            <select id="call-target" name="target">
              ${targets.map((t) => html`<option value=${`${t.module}\n${t.fn}`}>${t.module}.${t.fn}</option>`)}
            </select>
            ${this.nodes.length === 0
              ? nothing
              : html`<label for="call-node">On</label>
                  <select id="call-node" name="node">
                    <option value="">this node</option>
                    ${this.nodes.map((n) => html`<option value=${n.id}>${n.name} (${n.kind})</option>`)}
                  </select>`}
            <label for="call-input">Input</label>
            <input id="call-input" name="input" type="text" autocomplete="off" spellcheck="false" />
            <button type="submit" class="small">Call</button>
          </form>`}
      ${this.output !== undefined
        ? html`<pre class=${this.output.ok ? 'call-output' : 'call-output error'} aria-live="polite">${this.output.text}</pre>`
        : nothing}
      <h3>Key-value store</h3>
      ${this.#store()}
      <h3>Transforms</h3>
      ${this.transforms.some((t) => t.name === 'count-malloc')
        ? nothing
        : html`<p>
            <button type="button" class="small add-count-malloc" @click=${() => this.kernel?.transforms.add('count-malloc', this.kernel.transforms.countMalloc)}>Count malloc calls</button>
            in modules installed from now on (each reports its calls and bytes on stderr when it ends)
          </p>`}
      ${this.transforms.length === 0
        ? html`<p class="empty">None registered (kernel.transforms.add).</p>`
        : html`<ul class="chips">
            ${this.transforms.map((t) => html`<li class="chip" data-transform=${t.name}><code>${t.name}</code> ${t.applied} applied, ${t.refused} refused</li>`)}
          </ul>`}
    `;
  }

  #liveLine(name: string) {
    const st = this.live.get(name);
    if (st === undefined) return html`<p class="meta service-stats">not running (starts on its first call)</p>`;
    return html`<p class="meta service-stats">
      pid ${st.pid} · ${st.busy ? 'serving' : 'idle'} · ${st.queued} queued · ${st.calls} calls (${st.rate}/s${st.direct > 0 ? html`, <span title="from a module's worker straight to this one, without the page (ADR 0027)">${st.direct} direct</span>` : ''}) ·
      ${st.errors > 0 ? html`<span class="warn-text">${st.errors} ${st.errors === 1 ? 'error' : 'errors'}</span>` : '0 errors'}
    </p>`;
  }

  #store() {
    return html`${this.groups.length === 0
        ? html`<p class="empty">No groups hold keys yet.</p>`
        : html`<ul class="chips" aria-label="Groups">
            ${this.groups.map(
              (g) => html`<li class="chip">
                <button type="button" class="small" data-group=${g.group} aria-pressed=${g.group === this.group ? 'true' : 'false'} @click=${() => void this.#select(g.group)}>
                  ${g.group} <span class="meta">${g.count} keys</span>
                </button>
              </li>`,
            )}
          </ul>`}
      ${this.group !== undefined
        ? html`<div class="table-wrap">
            <table class="kv-table" aria-label=${`Keys of ${this.group}`}>
              <thead>
                <tr><th scope="col">Key</th><th scope="col">Value</th></tr>
              </thead>
              <tbody>
                ${this.entries.map(
                  (e) => html`<tr data-key=${e.key} class=${this.changed.includes(e.key) ? 'changed' : ''}>
                    <td><code>${e.key}</code></td>
                    <td><code>${e.value}</code></td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : nothing}
      <form class="kv-form inline-form" @submit=${this.#set}>
        <input name="group" aria-label="Group" placeholder="group" .value=${this.group ?? ''} autocomplete="off" spellcheck="false" />
        <input name="key" aria-label="Key" placeholder="key" autocomplete="off" spellcheck="false" />
        <input name="value" aria-label="Value" placeholder="value" autocomplete="off" spellcheck="false" />
        <button type="submit" class="small">Set</button>
      </form>`;
  }
}

customElements.define('webmk-services-view', ServicesView);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-services-view': ServicesView;
  }
}
