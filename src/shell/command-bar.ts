/**
 * The command line: type `hello from webmk` or `seq 1 100 | grep 7 | wc` and press Enter. One
 * command runs like Run on its card; stages joined by `|` run as one pipeline in one window.
 * Up and Down walk through what was run before.
 */
import { LitElement, html, nothing } from 'lit';
import { formatCommandLine, parseCommandLine } from './command-line';
import { emit } from './events';

const HISTORY = 50;

/** A form that parses what is typed and sends `webmk-run` or `webmk-pipeline` up. */
export class CommandBar extends LitElement {
  static override properties = {
    _error: { state: true },
  };

  declare _error: string;
  #history: string[] = [];
  /** Where Up/Down stand in the history; `history.length` is the line being typed. */
  #at = 0;
  #draft = '';

  constructor() {
    super();
    this._error = '';
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  #input(): HTMLInputElement | null {
    return this.querySelector<HTMLInputElement>('#command-input');
  }

  #submit = (e: Event): void => {
    e.preventDefault();
    const input = this.#input();
    if (input === null) return;
    const parsed = parseCommandLine(input.value);
    if (!parsed.ok) {
      this._error = parsed.error;
      input.focus();
      return;
    }
    this._error = '';
    const line = formatCommandLine(parsed.stages);
    this.#history = [...this.#history.filter((h) => h !== input.value.trim()), input.value.trim()].slice(-HISTORY);
    this.#at = this.#history.length;
    this.#draft = '';
    input.value = '';
    const [only] = parsed.stages;
    if (parsed.stages.length === 1 && only !== undefined) emit(this, 'webmk-run', { name: only.name, args: only.args });
    else emit(this, 'webmk-pipeline', { stages: parsed.stages, line });
  };

  #keydown = (e: KeyboardEvent): void => {
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    const input = e.target as HTMLInputElement;
    if (this.#at === this.#history.length) this.#draft = input.value;
    const next = Math.min(this.#history.length, Math.max(0, this.#at + (e.key === 'ArrowUp' ? -1 : 1)));
    if (next === this.#at) return;
    e.preventDefault();
    this.#at = next;
    input.value = this.#history[next] ?? this.#draft;
    input.setSelectionRange(input.value.length, input.value.length);
  };

  protected override render() {
    return html`<form class="command-form" @submit=${this.#submit}>
        <label for="command-input" class="visually-hidden">Command</label>
        <span class="prompt" aria-hidden="true">$</span>
        <input
          id="command-input"
          type="text"
          autocomplete="off"
          autocapitalize="off"
          spellcheck="false"
          enterkeyhint="go"
          placeholder="seq 1 100 | grep 7 | wc"
          aria-describedby="command-help"
          aria-invalid=${this._error === '' ? 'false' : 'true'}
          aria-errormessage="command-error"
          @keydown=${this.#keydown}
          @input=${() => (this._error = '')}
        />
        <button type="submit" class="primary">Run</button>
      </form>
      ${this._error === ''
        ? nothing
        : html`<p id="command-error" class="field-error" role="alert">${this._error}</p>`}
      <p id="command-help" class="hint">
        A module's name and its arguments; join commands with <code>|</code> to pipe one's output into the next.
      </p>`;
  }
}

customElements.define('webmk-command-bar', CommandBar);
