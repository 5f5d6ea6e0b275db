/**
 * The process table: who runs where, for how long, how often it was restarted and how each
 * ended; Kill for what runs, Restart for what ended or waits to be restarted; for a migratable
 * process, Hibernate, Resume and Move to… (ADR 0019).
 */
import { LitElement, html, nothing } from 'lit';
import type { AddressSpace, NodeInfo, ProcessInfo, SlotUse } from '../kernel';
import { emit } from './events';
import { describeEnd, describeRestart, formatDuration } from './format';

/**
 * Rows drawn until the person asks for all: a thousand processes (hibernated ones, past the
 * address-space wall) drawn every 100 ms would take the page's thread from the kernel.
 */
const ROWS_SHOWN = 100;

/** The modes a running process can be moved to. */
const MOVE_TARGETS = ['worker', 'iframe'] as const;

/** Renders `processes`; `killable` holds the pids the shell has a handle for. */
export class ProcessList extends LitElement {
  static override properties = {
    processes: { attribute: false },
    killable: { attribute: false },
    slots: { attribute: false },
    migratable: { attribute: false },
    nodes: { attribute: false },
    now: { type: Number },
    _hidden: { state: true },
    _all: { state: true },
  };

  declare processes: ProcessInfo[];
  declare killable: ReadonlySet<number>;
  /** The wasm memories live per renderer, and the browser's limit once met (`kernel.memorySlots()`). */
  declare slots: Record<AddressSpace, SlotUse> | undefined;
  /** Names of the migratable modules: their processes can be hibernated and moved. */
  declare migratable: ReadonlySet<string>;
  /** The other nodes reachable now: a migratable process can be moved to one. */
  declare nodes: NodeInfo[];
  /** The clock the uptimes are measured against (the desktop ticks it while something runs). */
  declare now: number;
  /** Finished processes the person cleared from view (the kernel keeps them). */
  declare _hidden: ReadonlySet<number>;
  /** The person asked to see every row, past ROWS_SHOWN. */
  declare _all: boolean;

  constructor() {
    super();
    this.processes = [];
    this.killable = new Set();
    this.slots = undefined;
    this.migratable = new Set();
    this.nodes = [];
    this.now = Date.now();
    this._hidden = new Set();
    this._all = false;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    const rows = this.processes.filter((p) => !this._hidden.has(p.pid)).sort((a, b) => b.pid - a.pid);
    const finished = rows.filter((p) => p.state === 'exited');
    const shown = this._all ? rows : rows.slice(0, ROWS_SHOWN);
    return html`
      ${this.#slots()}
      ${rows.length === 0
        ? html`<p class="empty">No processes yet. Run a module to start one.</p>`
        : html`<table class="process-table">
            <thead>
              <tr>
                <th scope="col">PID</th>
                <th scope="col">Process</th>
                <th scope="col">Mode</th>
                <th scope="col">Restarts</th>
                <th scope="col">Time</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${shown.map((p) => this.#row(p))}
            </tbody>
          </table>`}
      ${this.#more(rows, shown.length)}
      ${finished.length > 0
        ? html`<button type="button" class="small quiet" @click=${() => this.#clearFinished(finished)}>
            Clear finished
          </button>`
        : nothing}
    `;
  }

  /** Past ROWS_SHOWN: how many rows are not drawn, by state, and a button to draw them all. */
  #more(rows: ProcessInfo[], shown: number) {
    if (rows.length <= ROWS_SHOWN) return nothing;
    const states = new Map<string, number>();
    for (const p of rows) states.set(p.state, (states.get(p.state) ?? 0) + 1);
    const counts = [...states].map(([state, n]) => `${n} ${state}`).join(', ');
    return html`<p class="more-processes">
      ${rows.length} processes (${counts})${shown < rows.length ? `; the ${shown} newest shown` : ''}.
      <button type="button" class="small quiet" @click=${() => (this._all = !this._all)}>${this._all ? `Show the ${ROWS_SHOWN} newest` : 'Show all'}</button>
    </p>`;
  }

  /** How many wasm memory slots are in use, where any is. */
  #slots() {
    const s = this.slots;
    if (s === undefined || (s.page.used === 0 && s.frames.used === 0 && s.page.limit === undefined && s.frames.limit === undefined)) return nothing;
    const part = (label: string, u: SlotUse) => `${label} ${u.used}${u.limit !== undefined ? ` of ${u.limit}` : ''}`;
    return html`<p class="slots" title="Live WebAssembly memories per browser process; the browser allows about 125 in each. Ending or hibernating a process frees one.">
      Wasm memories: ${part('page', s.page)} · ${part('frames', s.frames)}
    </p>`;
  }

  #row(p: ProcessInfo) {
    const end = p.endedAt ?? this.now;
    const running = p.state !== 'exited';
    const restartable = p.state === 'exited' || p.state === 'backoff';
    return html`<tr data-pid=${p.pid} class=${running ? `running ${p.state}` : `ended ${p.reason ?? ''}`}>
      <td class="pid">${p.pid}</td>
      <td class="proc">
        <span class="name">${p.name}</span>
        <span class="state"><span class="state-dot" aria-hidden="true"></span>${this.#state(p)}</span>
      </td>
      <td class="mode">${p.mode}${where(p)}</td>
      <td class="restarts" title=${`incarnation ${p.incarnation}; restart policy: ${p.restart}${p.watchdogMs !== undefined ? `; watchdog ${p.watchdogMs} ms` : ''}`}>
        ${p.restarts}${p.restart !== 'temporary' ? html` <span class="policy">${p.restart}</span>` : nothing}
      </td>
      <td class="uptime">${formatDuration(end - p.startedAt)}</td>
      <td class="action">
        ${running && this.killable.has(p.pid)
          ? html`<button
              type="button"
              class="small danger"
              aria-label=${`Kill ${p.name} (pid ${p.pid})`}
              @click=${() => emit(this, 'webmk-kill', { pid: p.pid })}
            >
              Kill
            </button>`
          : nothing}
        ${restartable
          ? html`<button
              type="button"
              class="small"
              aria-label=${`Restart ${p.name} (pid ${p.pid})`}
              @click=${() => emit(this, 'webmk-restart', { pid: p.pid })}
            >
              Restart
            </button>`
          : nothing}
        ${this.#migrationActions(p)}
      </td>
    </tr>`;
  }

  /** Hibernate and Move to… for a running migratable process, Resume for a hibernated one. */
  #migrationActions(p: ProcessInfo) {
    if (p.state === 'hibernated') {
      return html`<button type="button" class="small" aria-label=${`Resume ${p.name} (pid ${p.pid})`} @click=${() => emit(this, 'webmk-resume', { pid: p.pid })}>
        Resume
      </button>`;
    }
    // One on another node is not parked from here (ADR 0029).
    if (p.state !== 'running' || !this.migratable.has(p.name) || p.mode === 'remote') return nothing;
    const targets = MOVE_TARGETS.filter((m) => m !== p.mode);
    // Not back to the node that asked for it (it runs here for that node).
    const nodes = this.nodes.filter((n) => n.connected && n.id !== p.node);
    return html`<button
        type="button"
        class="small"
        aria-label=${`Hibernate ${p.name} (pid ${p.pid})`}
        @click=${() => emit(this, 'webmk-hibernate', { pid: p.pid })}
      >
        Hibernate
      </button>
      <select
        class="small move-to"
        aria-label=${`Move ${p.name} (pid ${p.pid}) to another mode or node`}
        @change=${(e: Event) => {
          const sel = e.target as HTMLSelectElement;
          const mode = MOVE_TARGETS.find((m) => m === sel.value);
          const node = nodes.find((n) => `node:${n.id}` === sel.value);
          sel.value = '';
          if (mode !== undefined) emit(this, 'webmk-move', { pid: p.pid, mode });
          else if (node !== undefined) emit(this, 'webmk-move', { pid: p.pid, mode: 'remote', node: node.id });
        }}
      >
        <option value="" selected>Move to…</option>
        ${targets.map((m) => html`<option value=${m}>${m}</option>`)}
        ${nodes.map((n) => html`<option value=${`node:${n.id}`}>${n.name} (${n.kind})</option>`)}
      </select>`;
  }

  /** The state in words: what it does now, and why it was last restarted. */
  #state(p: ProcessInfo): string {
    if (p.state === 'exited') return describeEnd(p);
    const why = describeRestart(p);
    if (p.state === 'backoff') {
      const wait = Math.max(0, (p.restartAt ?? this.now) - this.now);
      return `restarting in ${(wait / 1000).toFixed(1)}s ${why}`;
    }
    return why === '' ? p.state : `${p.state} (restarted ${why})`;
  }

  #clearFinished(finished: ProcessInfo[]): void {
    const hidden = new Set(this._hidden);
    for (const p of finished) hidden.add(p.pid);
    this._hidden = hidden;
  }
}

/** For a remote process, the node it runs on; for one run here for another node, that node. */
function where(p: ProcessInfo) {
  if (p.node === undefined) return nothing;
  const title = `node ${p.node}${p.remotePid !== undefined ? `, pid ${p.remotePid} there` : ''}`;
  return p.mode === 'remote'
    ? html` <span class="node-mark remote-on" title=${title}>on ${p.node.slice(0, 4)}</span>`
    : html` <span class="node-mark remote-for" title=${title}>for ${p.node.slice(0, 4)}</span>`;
}

customElements.define('webmk-processes', ProcessList);
