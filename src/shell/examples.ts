/** The example modules shipped beside the app (`modules/index.json`) and their one-click install. */
import { LitElement, html, nothing } from 'lit';
import { joinArgs } from './args';
import { emit } from './events';
import type { Example } from './types';

export type { Example } from './types';


/** Reads `modules/index.json`; an unreachable or malformed index yields no examples. */
export async function loadExamples(base: string = document.baseURI): Promise<Example[]> {
  try {
    const res = await fetch(new URL('modules/index.json', base));
    if (!res.ok) return [];
    return parseExamples(await res.json());
  } catch {
    return [];
  }
}

/** Keeps the well-formed entries of an index; `args` may be a string or an array of strings. */
export function parseExamples(data: unknown): Example[] {
  if (!Array.isArray(data)) return [];
  const out: Example[] = [];
  for (const item of data as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { name, file, description, args } = item as Record<string, unknown>;
    if (typeof name !== 'string' || typeof file !== 'string' || name === '' || file === '') continue;
    let argText = '';
    if (typeof args === 'string') argText = args;
    else if (Array.isArray(args)) argText = joinArgs(args.filter((a): a is string => typeof a === 'string'));
    out.push({ name, file, description: typeof description === 'string' ? description : '', args: argText });
  }
  return out;
}

/** Fetches an example's bytes from `modules/<file>`. */
export async function fetchExample(example: Example, base: string = document.baseURI): Promise<Uint8Array> {
  const res = await fetch(new URL(`modules/${example.file}`, base));
  if (!res.ok) throw new Error(`could not download ${example.file} (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The list of examples, each with an Install button or an "installed" mark. */
export class ExamplesView extends LitElement {
  static override properties = {
    examples: { attribute: false },
    installed: { attribute: false },
    busy: { attribute: false },
  };

  declare examples: Example[];
  declare installed: ReadonlySet<string>;
  declare busy: ReadonlySet<string>;

  constructor() {
    super();
    this.examples = [];
    this.installed = new Set();
    this.busy = new Set();
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    if (this.examples.length === 0) {
      return html`<p class="empty">No examples are available.</p>`;
    }
    return html`<ul class="cards examples-list">
      ${this.examples.map((ex) => this.#item(ex))}
    </ul>`;
  }

  #item(ex: Example) {
    const installed = this.installed.has(ex.name);
    const busy = this.busy.has(ex.name);
    return html`<li class="card example" data-name=${ex.name}>
      <div class="card-head">
        <span class="module-name">${ex.name}</span>
        ${ex.file.endsWith('.zip') ? html`<span class="tag package-tag" title="A signed package of several modules">package</span>` : nothing}
        ${installed
          ? html`<span class="tag ok">installed</span>`
          : html`<button
              type="button"
              class="small"
              ?disabled=${busy}
              aria-label=${`Install example ${ex.name}`}
              @click=${() => emit(this, 'webmk-install-example', { example: ex })}
            >
              ${busy ? 'Installing…' : 'Install'}
            </button>`}
      </div>
      ${ex.description ? html`<p class="description">${ex.description}</p>` : nothing}
    </li>`;
  }
}

customElements.define('webmk-examples', ExamplesView);
