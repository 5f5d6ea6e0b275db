/**
 * A canonical-mode line discipline for the shell's terminals, free of the DOM so it can be unit
 * tested: it turns what a person types (xterm's `onData` strings, pastes included) into what to
 * echo on the screen and what to hand to the process.
 */

/** What the terminal should do in response to input. */
export type LineAction =
  /** Write this to the screen (local echo and erase sequences). */
  | { type: 'echo'; text: string }
  /** Send this text to the process's stdin. */
  | { type: 'send'; text: string }
  /** Close the process's stdin (Ctrl-D on an empty line). */
  | { type: 'eof' }
  /** Kill the process (Ctrl-C). */
  | { type: 'interrupt' };

const ETX = '\x03'; // Ctrl-C
const EOT = '\x04'; // Ctrl-D
const BS = '\x08';
const NAK = '\x15'; // Ctrl-U
const ESC = '\x1b';
const DEL = '\x7f';

/** The sequence that visually erases one column to the left of the cursor. */
const ERASE_ONE = '\b \b';

/**
 * Holds the line being edited. Feed it input; it returns actions in order. After EOF or an
 * interrupt it ignores further input: the process's stdin is gone.
 */
export class LineDiscipline {
  #chars: string[] = [];
  #closed = false;
  /** The previous input ended in CR, so a following LF belongs to it (a pasted CRLF). */
  #afterCr = false;

  /** The text typed since the last Enter. */
  get line(): string {
    return this.#chars.join('');
  }

  /** True once EOF or an interrupt has been sent. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Processes one chunk of input and returns what to echo and send, in order. */
  feed(input: string): LineAction[] {
    const out: LineAction[] = [];
    const chars = [...input];
    let i = 0;
    while (i < chars.length && !this.#closed) {
      const c = chars[i] ?? '';
      const afterCr = this.#afterCr;
      this.#afterCr = false;
      if (c === ESC) {
        i = skipEscape(chars, i);
        continue;
      }
      i += 1;
      if (c === '\r') {
        this.#enter(out);
        this.#afterCr = true;
      } else if (c === '\n') {
        if (!afterCr) this.#enter(out);
      } else if (c === DEL || c === BS) {
        if (this.#chars.length > 0) {
          const gone = this.#chars.pop() ?? '';
          push(out, { type: 'echo', text: ERASE_ONE.repeat(columns(gone)) });
        }
      } else if (c === NAK) {
        const width = this.#chars.reduce((n, ch) => n + columns(ch), 0);
        this.#chars = [];
        if (width > 0) push(out, { type: 'echo', text: ERASE_ONE.repeat(width) });
      } else if (c === EOT) {
        if (this.#chars.length === 0) {
          this.#closed = true;
          out.push({ type: 'eof' });
        } else {
          // As in a POSIX tty: Ctrl-D on a non-empty line hands over what is there, no newline.
          push(out, { type: 'send', text: this.line });
          this.#chars = [];
        }
      } else if (c === ETX) {
        this.#chars = [];
        this.#closed = true;
        push(out, { type: 'echo', text: '^C\r\n' });
        out.push({ type: 'interrupt' });
      } else if (isPrintable(c)) {
        this.#chars.push(c);
        push(out, { type: 'echo', text: c });
      }
    }
    return out;
  }

  #enter(out: LineAction[]): void {
    push(out, { type: 'echo', text: '\r\n' });
    push(out, { type: 'send', text: `${this.line}\n` });
    this.#chars = [];
  }
}

/** Appends an action, merging it into the previous one of the same kind (fewer writes). */
function push(out: LineAction[], action: LineAction): void {
  const last = out[out.length - 1];
  if ((last?.type === 'echo' && action.type === 'echo') || (last?.type === 'send' && action.type === 'send')) {
    last.text += action.text;
    return;
  }
  out.push(action);
}

/** Index just past an escape sequence (CSI `ESC [ ... final`, SS3 `ESC O x`, or `ESC x`). */
function skipEscape(chars: string[], start: number): number {
  const next = chars[start + 1];
  if (next === '[') {
    let i = start + 2;
    while (i < chars.length) {
      const code = (chars[i] ?? '').codePointAt(0) ?? 0;
      i += 1;
      if (code >= 0x40 && code <= 0x7e) break;
    }
    return i;
  }
  if (next === 'O') return Math.min(start + 3, chars.length);
  return next === undefined ? start + 1 : start + 2;
}

function isPrintable(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  return code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0);
}

/** Screen columns a character takes: 2 for East Asian wide ranges and emoji, else 1. */
export function columns(c: string): number {
  const code = c.codePointAt(0) ?? 0;
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}
