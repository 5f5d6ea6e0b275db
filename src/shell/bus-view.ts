/**
 * The bus view: the topics seen while it is shown (publishers, rate, the last messages), every
 * subscription's inbox, the global topics, and recently refused attempts. The desktop opens it
 * (and the kernel records topics) while the Bus view is the one picked.
 */
import { LitElement, html, nothing } from 'lit';
import type { BusStats, TopicStats } from '../bus';
import { describePermission, type DeniedAttempt } from '../kernel';
import { emit } from './events';

const SHOW_DENIED = 20;

/** Renders what the desktop's `BusWatch` holds; declaring goes up as an event. */
export class BusView extends LitElement {
  static override properties = {
    open: { type: Boolean },
    stats: { attribute: false },
    denied: { attribute: false },
  };

  declare open: boolean;
  declare stats: BusStats | undefined;
  /** Newest first. */
  declare denied: DeniedAttempt[];

  constructor() {
    super();
    this.open = false;
    this.stats = undefined;
    this.denied = [];
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    const refused = this.denied.length;
    return html`<h2 id="bus-heading">
        Bus ${refused > 0 ? html`<span class="count-badge" title="Refused attempts">${refused} refused</span>` : nothing}
      </h2>
      <div id="bus-body" ?hidden=${!this.open}>${this.open ? this.#body() : nothing}</div>`;
  }

  #body() {
    const s = this.stats;
    if (s === undefined) return html`<p class="empty">Reading the bus…</p>`;
    return html`
      <h3>Topics</h3>
      ${s.topics.length === 0
        ? html`<p class="empty">No messages since this view opened.</p>`
        : html`<ul class="cards topic-list">
            ${s.topics.map((t) => this.#topic(t))}
          </ul>`}
      <h3>Subscriptions</h3>
      ${s.subscriptions.length === 0 ? html`<p class="empty">Nobody subscribes.</p>` : this.#subscriptions(s)}
      <h3>Global topics</h3>
      ${this.#globals(s.globals)}
      <h3>Refused</h3>
      ${this.#denied()}
    `;
  }

  #topic(t: TopicStats) {
    return html`<li class="card topic" data-topic=${t.topic}>
      <div class="card-head">
        <code class="topic-name">${t.topic}</code>
        <span class="meta"><span class="rate">${formatRate(t.rate)}</span> · ${t.messages} in all</span>
      </div>
      <p class="meta publishers">from ${t.publishers.join(', ')}</p>
      ${t.last.length > 0
        ? html`<ol class="last-messages" aria-label=${`Last messages on ${t.topic}, newest first`}>
            ${t.last.map((m) => html`<li><code>${m}</code></li>`)}
          </ol>`
        : nothing}
    </li>`;
  }

  #subscriptions(stats: BusStats) {
    const subs = stats.subscriptions;
    const sorted = [...subs].sort((a, b) => a.pid - b.pid || a.pattern.localeCompare(b.pattern));
    return html`<div class="table-wrap">
      <table class="sub-table">
        <thead>
          <tr>
            <th scope="col">Subscriber</th>
            <th scope="col" class="num">Queued</th>
            <th scope="col" class="num">Delivered</th>
            <th scope="col" class="num">Dropped</th>
          </tr>
        </thead>
        <tbody>
          ${sorted.map(
            (s) => html`<tr class=${s.dropped > 0 ? 'overflow' : ''} data-pid=${s.pid} data-pattern=${s.pattern}>
              <td>
                <span class="owner">${s.pid === 0 ? pageRole(s.pattern, stats) : html`${s.name} <span class="meta">pid ${s.pid}</span>`}</span>
                <code class="pattern">${s.pattern}</code>
              </td>
              <td class="num" title=${`${s.queued} messages waiting in an inbox of ${formatBytes(s.capacity)}`}>
                ${s.queued}<span class="meta"> / ${formatBytes(s.capacity)}</span>
              </td>
              <td class="num">${s.delivered}</td>
              <td class="num dropped">
                ${s.dropped > 0 ? html`<span class="warn-text" title="The inbox was full: these messages were lost">⚠ ${s.dropped}</span>` : '0'}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }

  #globals(globals: string[]) {
    return html`${globals.length === 0
        ? html`<p class="empty">None. Messages stay in this tab.</p>`
        : html`<ul class="chips" aria-label="Global topic patterns">
            ${globals.map((g) => html`<li class="chip"><code>${g}</code></li>`)}
          </ul>`}
      <form class="inline-form" @submit=${this.#declare}>
        <label for="global-pattern">Declare global</label>
        <input
          id="global-pattern"
          name="pattern"
          type="text"
          autocomplete="off"
          autocapitalize="off"
          spellcheck="false"
          placeholder="sensors/*"
          aria-describedby="global-help"
        />
        <button type="submit" class="small">Declare</button>
      </form>
      <p id="global-help" class="hint">Messages on a global topic also reach this app in your other tabs.</p>`;
  }

  #declare = (e: SubmitEvent): void => {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('pattern');
    if (!(input instanceof HTMLInputElement)) return;
    const pattern = input.value.trim();
    if (pattern === '') return;
    emit(this, 'webmk-declare-global', { pattern });
    input.value = '';
  };

  #denied() {
    if (this.denied.length === 0) return html`<p class="empty">Nothing was refused.</p>`;
    return html`<ul class="denied-list">
      ${this.denied.slice(0, SHOW_DENIED).map(
        (d) => html`<li data-permission=${d.permission}>
          <time datetime=${new Date(d.at).toISOString()}>${new Date(d.at).toLocaleTimeString()}</time>
          <span><strong>${d.name}</strong> <span class="meta">pid ${d.pid}</span> may not ${describePermission(d.permission)}</span>
        </li>`,
      )}
    </ul>
    ${this.denied.length > SHOW_DENIED ? html`<p class="hint">and ${this.denied.length - SHOW_DENIED} earlier</p>` : nothing}`;
  }
}

/** What a subscription of the page is for, where the shell can tell. */
function pageRole(pattern: string, stats: BusStats) {
  const role = pattern === '*' && stats.watching ? 'this view' : stats.globals.includes(pattern) ? 'to other tabs' : '';
  return html`page${role === '' ? nothing : html` <span class="meta">${role}</span>`}`;
}

function formatRate(rate: number): string {
  return `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)} msg/s`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

customElements.define('webmk-bus-view', BusView);
