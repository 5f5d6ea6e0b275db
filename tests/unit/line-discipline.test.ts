import { describe, expect, it } from 'vitest';
import { LineDiscipline, type LineAction } from '../../src/shell/line-discipline';
import { joinArgs, splitArgs } from '../../src/shell/args';

/** Feeds each chunk in turn and returns all the actions. */
function run(...chunks: string[]): { ld: LineDiscipline; actions: LineAction[] } {
  const ld = new LineDiscipline();
  const actions = chunks.flatMap((c) => ld.feed(c));
  return { ld, actions };
}

const sent = (actions: LineAction[]) =>
  actions.flatMap((a) => (a.type === 'send' ? [a.text] : [])).join('');
const echoed = (actions: LineAction[]) =>
  actions.flatMap((a) => (a.type === 'echo' ? [a.text] : [])).join('');

describe('LineDiscipline', () => {
  it('echoes typed characters and sends nothing until Enter', () => {
    const { ld, actions } = run('h', 'i');
    expect(echoed(actions)).toBe('hi');
    expect(sent(actions)).toBe('');
    expect(ld.line).toBe('hi');
  });

  it('sends the line with a newline on Enter and echoes CRLF', () => {
    const { ld, actions } = run('Ada', '\r');
    expect(actions).toEqual([
      { type: 'echo', text: 'Ada' },
      { type: 'echo', text: '\r\n' },
      { type: 'send', text: 'Ada\n' },
    ]);
    expect(ld.line).toBe('');
  });

  it('sends an empty line on a bare Enter', () => {
    expect(sent(run('\r').actions)).toBe('\n');
  });

  it('Backspace (DEL or BS) removes the last character and erases it on screen', () => {
    const { ld, actions } = run('abc', '\x7f', '\b', 'X', '\r');
    expect(sent(actions)).toBe('aX\n');
    expect(echoed(actions)).toBe('abc\b \b\b \bX\r\n');
    expect(ld.line).toBe('');
  });

  it('Backspace on an empty line does nothing', () => {
    expect(run('\x7f\x7f').actions).toEqual([]);
  });

  it('Backspace erases two columns for a wide character', () => {
    const { actions } = run('日', '\x7f');
    expect(echoed(actions)).toBe('日\b \b\b \b');
  });

  it('Backspace removes a whole astral character, not half of it', () => {
    const { ld } = run('a😀', '\x7f');
    expect(ld.line).toBe('a');
  });

  it('Ctrl-U clears the line and erases it on screen', () => {
    const { ld, actions } = run('hello', '\x15', 'ok\r');
    expect(echoed(actions)).toBe(`hello${'\b \b'.repeat(5)}ok\r\n`);
    expect(sent(actions)).toBe('ok\n');
    expect(ld.line).toBe('');
  });

  it('Ctrl-D on an empty line is EOF, and input after it is ignored', () => {
    const { ld, actions } = run('\x04', 'more\r');
    expect(actions).toEqual([{ type: 'eof' }]);
    expect(ld.closed).toBe(true);
  });

  it('Ctrl-D on a non-empty line sends the text without a newline (as a POSIX tty does)', () => {
    const { ld, actions } = run('abc\x04');
    expect(sent(actions)).toBe('abc');
    expect(actions.some((a) => a.type === 'eof')).toBe(false);
    expect(ld.closed).toBe(false);
    expect(run('abc\x04', '\x04').actions.at(-1)).toEqual({ type: 'eof' });
  });

  it('Ctrl-C echoes ^C and interrupts, dropping the line', () => {
    const { ld, actions } = run('half', '\x03', 'x');
    expect(actions.slice(-2)).toEqual([{ type: 'echo', text: '^C\r\n' }, { type: 'interrupt' }]);
    expect(sent(actions)).toBe('');
    expect(ld.closed).toBe(true);
  });

  it('ignores control characters and escape sequences (arrows, function keys, Alt-x)', () => {
    const { ld, actions } = run('a', '\x1b[A', '\x1b[1;5C', '\x1bOP', '\x1bx', '\t', '\x01', '\x1b', 'b', '\r');
    expect(sent(actions)).toBe('ab\n');
    expect(echoed(actions)).toBe('ab\r\n');
    expect(ld.line).toBe('');
  });

  it('handles a paste of several lines in one chunk (CR, LF or CRLF endings)', () => {
    const { ld, actions } = run('one\rtwo\nthree\r\nfour');
    expect(sent(actions)).toBe('one\ntwo\nthree\n');
    expect(ld.line).toBe('four');
    expect(echoed(actions)).toBe('one\r\ntwo\r\nthree\r\nfour');
  });

  it('a CR at the end of one chunk and LF at the start of the next make one line end', () => {
    expect(sent(run('a\r', '\nb\r').actions)).toBe('a\nb\n');
  });

  it('two Enters are two lines', () => {
    expect(sent(run('\r\r').actions)).toBe('\n\n');
    expect(sent(run('\n\n').actions)).toBe('\n\n');
  });

  it('merges consecutive echoes and sends of one chunk', () => {
    const { actions } = run('abc');
    expect(actions).toEqual([{ type: 'echo', text: 'abc' }]);
  });

  it('keeps non-ASCII printable text (UTF-8 is the caller’s concern)', () => {
    expect(sent(run('héllo wörld ✓\r').actions)).toBe('héllo wörld ✓\n');
  });
});

describe('splitArgs (the Run field)', () => {
  it('splits on runs of whitespace', () => {
    expect(splitArgs('  a  b\tc ')).toEqual(['a', 'b', 'c']);
    expect(splitArgs('')).toEqual([]);
  });

  it('keeps double-quoted text together, quotes removed, empty quotes an empty arg', () => {
    expect(splitArgs('say "hello world" ""')).toEqual(['say', 'hello world', '']);
    expect(splitArgs('--name="Ada Lovelace"')).toEqual(['--name=Ada Lovelace']);
  });

  it('understands \\" and \\\\ inside quotes, leaves other backslashes alone', () => {
    expect(splitArgs('"a \\"b\\" \\\\" c\\d')).toEqual(['a "b" \\', 'c\\d']);
  });

  it('an unclosed quote runs to the end', () => {
    expect(splitArgs('x "y z')).toEqual(['x', 'y z']);
  });

  it('joinArgs quotes only what needs it and round-trips', () => {
    const args = ['plain', 'two words', '', 'q"uote', 'back\\slash'];
    expect(joinArgs(['a', 'b'])).toBe('a b');
    expect(splitArgs(joinArgs(args))).toEqual(args);
  });
});
