/**
 * One process in one terminal window: xterm.js shows its stdout and stderr as they stream, and
 * a line discipline turns typing into stdin. The window owns the process's streams, not its life:
 * closing it asks the desktop, which kills a process that still runs.
 */
import { LitElement, html } from 'lit';
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { KernelApi, Process, ProcessInfo } from '../kernel';
import { emit } from './events';
import { describeEnd } from './format';
import { LineDiscipline } from './line-discipline';

/** A process the shell spawned, with what the person asked for. */
export interface Session {
  /** The (first) process's pid: the window's key. */
  pid: number;
  name: string;
  args: string[];
  /** The process, or a pipeline's first stage: what is typed goes to its stdin. */
  process: Process;
  /** For a pipeline: the line as typed and every stage in order (the first is `process`). */
  pipeline?: { line: string; stages: { name: string; process: Process }[] };
}

/** The stages of a session: one for a single process. */
function stagesOf(s: Session): { name: string; process: Process }[] {
  return s.pipeline?.stages ?? [{ name: s.name, process: s.process }];
}

/** How long to wait for stdout/stderr to drain after exit before printing the exit line. */
const DRAIN_MS = 1000;

const THEME: ITheme = {
  background: '#14171c',
  foreground: '#d9dee6',
  cursor: '#9ecbff',
  selectionBackground: '#3a4658',
  red: '#f49a8f',
  brightRed: '#ffb4a9',
  green: '#9fd6a4',
  yellow: '#e8cf8a',
  blue: '#9ecbff',
};

const STDERR_ON = '\x1b[31m';
const STDERR_OFF = '\x1b[39m';
const DIM_ON = '\x1b[2m';
const DIM_OFF = '\x1b[22m';

export class TerminalWindow extends LitElement {
  static override properties = {
    session: { attribute: false },
    kernel: { attribute: false },
    _state: { state: true },
    _ended: { state: true },
  };

  declare session: Session | undefined;
  declare kernel: KernelApi | undefined;
  declare _state: string;
  declare _ended: boolean;

  #term: Terminal | undefined;
  #fit: FitAddon | undefined;
  #resize: ResizeObserver | undefined;
  #discipline = new LineDiscipline();
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  #encoder = new TextEncoder();
  #atLineStart = true;
  #started = false;
  #disposed = false;

  constructor() {
    super();
    this.session = undefined;
    this.kernel = undefined;
    this._state = 'running';
    this._ended = false;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  /** Everything the terminal holds: scrollback and screen, one line per row, trailing blanks cut. */
  get text(): string {
    const buf = this.#term?.buffer.active;
    if (buf === undefined) return '';
    let text = '';
    for (let i = 0; i < buf.length; i += 1) {
      const line = buf.getLine(i);
      // A row the terminal wrapped continues the line above it.
      if (i > 0 && line?.isWrapped !== true) text += '\n';
      text += line?.translateToString(line.isWrapped ? false : true) ?? '';
    }
    return text.trimEnd();
  }

  /** Puts the keyboard focus in the terminal. */
  focusTerminal(): void {
    this.#term?.focus();
  }

  protected override render() {
    const s = this.session;
    if (s === undefined) return html``;
    const pids = stagesOf(s).map((st) => st.process.pid);
    const pidText = pids.length === 1 ? `pid ${s.pid}` : `pids ${pids.join(', ')}`;
    const label = s.pipeline === undefined ? `${s.name}, pid ${s.pid}` : `${s.pipeline.line}, ${pidText}`;
    return html`<section class="term-window ${this._ended ? 'ended' : 'running'}" aria-label=${`Terminal: ${label}`}>
      <header class="term-bar">
        <span class="term-title" title=${s.pipeline?.line ?? [s.name, ...s.args].join(' ')}>${s.pipeline?.line ?? s.name}</span>
        <span class="term-pid">${pids.length === 1 ? pidText : `pid ${s.pid}…`}</span>
        <span class="term-state" aria-live="polite" title=${this._state}>${this._state}</span>
        <button type="button" class="icon close" aria-label=${`Close terminal ${label}`} title="Close" @click=${this.#close}>
          <span aria-hidden="true">✕</span>
        </button>
      </header>
      <div class="term-host" @click=${() => this.focusTerminal()}></div>
    </section>`;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.#term !== undefined && !this.#disposed) this.#fitSoon();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // A keyed list may move this element (disconnect then connect at once); only a real removal frees it.
    queueMicrotask(() => {
      if (!this.isConnected) this.#dispose();
    });
  }

  /** A hibernated, moving or resuming process says so in its bar (its end says how it ended). */
  #onState = (e: Event): void => {
    const d = (e as CustomEvent<{ pid: number; state: string }>).detail;
    if (d.pid === this.session?.pid && !this._ended && d.state !== 'exited') this._state = d.state;
  };

  protected override firstUpdated(): void {
    const host = this.querySelector<HTMLElement>('.term-host');
    const s = this.session;
    if (host === null || s === undefined || this.#started) return;
    this.#started = true;
    this.kernel?.addEventListener('statechange', this.#onState);
    const term = new Terminal({
      convertEol: true,
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: THEME,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host);
    if (term.textarea !== undefined) term.textarea.setAttribute('aria-label', `Input for ${s.pipeline?.line ?? s.name}, pid ${s.pid}`);
    term.attachCustomKeyEventHandler((e) => {
      // Let Tab move focus out (no keyboard trap) and Ctrl-C copy a selection.
      if (e.key === 'Tab' && !e.ctrlKey && !e.altKey && !e.metaKey) return false;
      if (e.type === 'keydown' && e.ctrlKey && e.key === 'c' && term.hasSelection()) return false;
      return true;
    });
    term.onData((data) => this.#input(data));
    this.#term = term;
    this.#fit = fit;
    this.#resize = new ResizeObserver(() => this.#fitSoon());
    this.#resize.observe(host);
    this.#fitSoon();
    void this.#run(s);
  }

  /** Shows the last stage's stdout and every stage's stderr until all stages end. */
  async #run(s: Session): Promise<void> {
    const stages = stagesOf(s);
    const last = stages[stages.length - 1] ?? { name: s.name, process: s.process };
    const pumps = [this.#pump(last.process.stdout, false), ...stages.map((st) => this.#pump(st.process.stderr, true))];
    const codes = await Promise.all(stages.map((st) => st.process.exit.catch(() => undefined)));
    await Promise.race([Promise.all(pumps), delay(DRAIN_MS)]);
    const ends = await Promise.all(
      stages.map(async (st, i) => {
        const info = await this.#finalInfo(st.process.pid);
        const code = codes[i];
        return { name: st.name, end: describeEnd(info, code), ok: info?.reason === 'exited' && (info.exitCode ?? code) === 0 };
      }),
    );
    // A pipeline names only the stages that did not end well (all well: it reads like one process).
    const bad = ends.filter((e) => !e.ok);
    const end = stages.length === 1 || bad.length === 0 ? (ends[ends.length - 1]?.end ?? 'exited') : bad.map((e) => `${e.name}: ${e.end}`).join(', ');
    this._state = end;
    this._ended = true;
    if (this.#disposed || this.#term === undefined) return;
    this.#write(`${this.#atLineStart ? '' : '\r\n'}${DIM_ON}[${end}]${DIM_OFF}\r\n`);
    this.#term.write('\x1b[?25l');
    this.#term.options.cursorBlink = false;
  }

  /** The process's row once the kernel has recorded its end (briefly waiting for the event). */
  async #finalInfo(pid: number): Promise<ProcessInfo | undefined> {
    const kernel = this.kernel;
    if (kernel === undefined) return undefined;
    const find = () => kernel.processes().find((p) => p.pid === pid);
    const now = find();
    if (now === undefined || now.state === 'exited') return now;
    await new Promise<void>((ok) => {
      const done = () => {
        kernel.removeEventListener('processes', onChange);
        clearTimeout(timer);
        ok();
      };
      const onChange = () => {
        if (find()?.state === 'exited') done();
      };
      const timer = setTimeout(done, DRAIN_MS);
      kernel.addEventListener('processes', onChange);
    });
    return find();
  }

  async #pump(stream: ReadableStream<Uint8Array>, stderr: boolean): Promise<void> {
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = stream.getReader();
    } catch {
      return;
    }
    this.#readers.push(reader);
    const decoder = new TextDecoder();
    const show = (text: string) => {
      if (text !== '') this.#write(stderr ? `${STDERR_ON}${text}${STDERR_OFF}` : text, text);
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        show(decoder.decode(value, { stream: true }));
      }
      show(decoder.decode());
    } catch {
      // The stream errored or was cancelled by dispose(): nothing more to show.
    }
  }

  /** Writes to the screen; `plain` is the text without colour codes, to track the line start. */
  #write(data: string, plain: string = data): void {
    if (this.#term === undefined || this.#disposed) return;
    this.#term.write(data);
    this.#atLineStart = plain.endsWith('\n');
  }

  #input(data: string): void {
    const s = this.session;
    if (s === undefined || this._ended) return;
    for (const action of this.#discipline.feed(data)) {
      switch (action.type) {
        case 'echo':
          this.#write(action.text);
          break;
        case 'send':
          this.#stdin()
            ?.write(this.#encoder.encode(action.text))
            .catch(() => {});
          break;
        case 'eof':
          this.#stdin()
            ?.close()
            .catch(() => {});
          break;
        case 'interrupt':
          for (const st of stagesOf(s)) void st.process.kill().catch(() => {});
          break;
      }
    }
  }

  #stdin(): WritableStreamDefaultWriter<Uint8Array> | undefined {
    if (this.#writer === undefined && this.session !== undefined) {
      try {
        this.#writer = this.session.process.stdin.getWriter();
      } catch {
        return undefined;
      }
    }
    return this.#writer;
  }

  #close = (): void => {
    if (this.session !== undefined) emit(this, 'webmk-close', { pid: this.session.pid });
  };

  #fitPending = false;
  #fitSoon(): void {
    if (this.#fitPending) return;
    this.#fitPending = true;
    requestAnimationFrame(() => {
      this.#fitPending = false;
      if (this.#disposed || !this.isConnected) return;
      try {
        this.#fit?.fit();
      } catch {
        // Not laid out yet (display: none); the next resize fits it.
      }
    });
  }

  #dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.kernel?.removeEventListener('statechange', this.#onState);
    this.#resize?.disconnect();
    for (const r of this.#readers) r.cancel().catch(() => {});
    this.#writer?.releaseLock();
    this.#term?.dispose();
    this.#term = undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}

customElements.define('webmk-terminal', TerminalWindow);

declare global {
  interface HTMLElementTagNameMap {
    'webmk-terminal': TerminalWindow;
  }
}
