/**
 * The Nodes view: this node's id, and the other nodes it reaches (tabs of the app on this
 * browser; paired devices whose link is up) with their round-trip time. A module is run on one of them from
 * its card ("Run on…" in the mode list).
 */
import { LitElement, html } from 'lit';
import type { NodeInfo } from '../kernel';

/** Renders `self` and `nodes`. */
export class NodesView extends LitElement {
  static override properties = {
    self: { type: String },
    nodes: { attribute: false },
  };

  /** This node's id. */
  declare self: string;
  declare nodes: NodeInfo[];

  constructor() {
    super();
    this.self = '';
    this.nodes = [];
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    return html`
      <p class="node-self">This node: <code class="node-id">${this.self}</code></p>
      ${this.nodes.length === 0
        ? html`<p class="empty">No other node. Open the app in another tab, or pair a device below, and it shows here.</p>`
        : html`<table class="node-table">
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Kind</th>
                <th scope="col">Round trip</th>
              </tr>
            </thead>
            <tbody>
              ${this.nodes.map(
                (n) => html`<tr data-node=${n.id} class=${n.connected ? 'connected' : 'away'}>
                  <td><span class="name">${n.name}</span> <code class="node-id" title=${n.id}>${n.id}</code></td>
                  <td>${n.kind}</td>
                  <td class="rtt">${n.rttMs === undefined ? '…' : `${n.rttMs < 10 ? n.rttMs.toFixed(2) : Math.round(n.rttMs)} ms`}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    `;
  }
}

customElements.define('webmk-nodes', NodesView);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-nodes': NodesView;
  }
}
