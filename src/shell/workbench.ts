/**
 * The workbench's frame (DESIGN.md "The shell"): the activity bar that picks one view at a time,
 * and the status line. Wide, the bar runs down the left beside the view, and the main area
 * (command line and terminals) is always there; narrow, the bar sits at the bottom and one thing
 * shows at a time, the terminals being a view of their own.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { AddressSpace, SlotUse } from '../kernel';
import type { BootStatus } from './types';

/** A view of the side area; `terminals` is one only on narrow screens. */
export type ViewId = 'modules' | 'processes' | 'bus' | 'services' | 'files' | 'nodes' | 'settings' | 'terminals';

/** The views in the order of the bar, with their key (Alt + key selects one) and a glyph. */
export const VIEWS: ReadonlyArray<{ id: ViewId; label: string; short?: string; key: string; glyph: string; narrowOnly?: boolean }> = [
  { id: 'modules', label: 'Modules', key: '1', glyph: '▦' },
  { id: 'processes', label: 'Processes', key: '2', glyph: '≡' },
  { id: 'bus', label: 'Bus', key: '3', glyph: '⇄' },
  { id: 'services', label: 'Services and store', short: 'Services', key: '4', glyph: 'ƒ' },
  { id: 'files', label: 'Files', key: '5', glyph: '▤' },
  { id: 'nodes', label: 'Nodes', key: '6', glyph: '⌘' },
  { id: 'settings', label: 'Settings', key: '7', glyph: '⚙' },
  { id: 'terminals', label: 'Terminals', key: '8', glyph: '>_', narrowOnly: true },
];

/** Whether `v` names a view (a stored choice may be from another version). */
export function isView(v: unknown): v is ViewId {
  return VIEWS.some((x) => x.id === v);
}

/** Screens this narrow show one thing at a time (the CSS's breakpoint too). */
export const NARROW = '(max-width: 760px)';

/**
 * The activity bar: a vertical tab list (horizontal at the bottom when narrow); arrow keys move
 * along it, as for any tab list. `running` badges Processes; `nodes` badges Nodes.
 */
export function renderActivityBar(current: ViewId, select: (v: ViewId, focus?: boolean) => void, badges: Partial<Record<ViewId, number>>): TemplateResult {
  const keydown = (e: KeyboardEvent): void => {
    const order = VIEWS.filter((v) => !v.narrowOnly || matchMedia(NARROW).matches).map((v) => v.id);
    const at = order.indexOf(current);
    const step = e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? -1 : 0;
    const to = e.key === 'Home' ? order[0] : e.key === 'End' ? order.at(-1) : step !== 0 ? order[(at + step + order.length) % order.length] : undefined;
    if (to === undefined) return;
    e.preventDefault();
    select(to, true);
  };
  return html`<nav class="activity" aria-label="Views">
    <div role="tablist" aria-orientation="vertical" aria-label="Views" @keydown=${keydown}>
      ${VIEWS.map((v) => {
        const badge = badges[v.id] ?? 0;
        return html`<button
          type="button"
          role="tab"
          id=${`tab-${v.id}`}
          class="activity-tab ${v.narrowOnly === true ? 'narrow-only' : ''}"
          aria-selected=${v.id === current ? 'true' : 'false'}
          aria-controls=${v.id === 'terminals' ? 'work-area' : `view-${v.id}`}
          tabindex=${v.id === current ? 0 : -1}
          aria-label=${v.label}
          title=${`${v.label} (Alt+${v.key})${badge > 0 ? `: ${badge}` : ''}`}
          @click=${() => select(v.id)}
        >
          <span class="glyph" aria-hidden="true">${v.glyph}</span>
          <span class="tab-label">${v.short ?? v.label}</span>
          ${badge > 0 ? html`<span class="badge" aria-hidden="true">${badge}</span>` : nothing}
        </button>`;
      })}
    </div>
  </nav>`;
}

/** What the status line shows. */
export interface StatusFacts {
  status: BootStatus | undefined;
  running: number;
  /** Processes hibernated (not among `running`). */
  hibernated?: number;
  slots: Record<AddressSpace, SlotUse> | undefined;
  nodes: number;
  online: boolean;
}

/** The status line: isolation, offline readiness, processes running, memory slots, nodes connected. */
export function renderStatusLine(f: StatusFacts, show: (v: ViewId) => void): TemplateResult {
  const s = f.status;
  const sw = s?.serviceWorker;
  const offline = sw === 'active' ? 'works offline' : sw === 'installing' ? 'getting ready for offline use' : 'online only';
  const slots = Object.values(f.slots ?? {}).filter((x) => x.used > 0);
  return html`<footer class="statusline" aria-label="Status">
    ${s === undefined
      ? nothing
      : html`<span class="iso-chip ${s.isolated ? 'ok' : 'bad'}" title=${s.isolated ? 'Cross-origin isolated: SharedArrayBuffer is available' : (s.reason ?? '')}>
          ${s.isolated ? 'isolated' : 'not isolated'}
        </span>`}
    <span class="status-item" title="Whether the app and its modules load without a network">${f.online ? offline : `offline · ${offline}`}</span>
    <button type="button" class="status-item link" @click=${() => show('processes')}>${f.running} running${(f.hibernated ?? 0) > 0 ? ` · ${f.hibernated} hibernated` : ''}</button>
    ${slots.length === 0
      ? nothing
      : html`<span class="status-item" title="Live WebAssembly memories per browser process (about 125 fit in each)">
          memory slots ${slots.map((x) => (x.limit === undefined ? `${x.used}` : `${x.used}/${x.limit}`)).join(' · ')}
        </span>`}
    <button type="button" class="status-item link nodes-chip" @click=${() => show('nodes')}>${f.nodes} ${f.nodes === 1 ? 'node' : 'nodes'}</button>
    <span class="spacer"></span>
    <span class="status-item hint"><kbd>Ctrl</kbd>+<kbd>K</kbd> command line</span>
  </footer>`;
}
