import { describe, expect, it } from 'vitest';
import { formatCommandLine, parseArgsLine, parseCommandLine, splitPipes } from '../../src/shell/command-line';

const stagesOf = (text: string) => {
  const r = parseCommandLine(text);
  if (!r.ok) throw new Error(`expected a pipeline, got: ${r.error}`);
  return r.stages;
};

const errorOf = (text: string) => {
  const r = parseCommandLine(text);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(text)}`);
  return r.error;
};

describe('parseCommandLine', () => {
  it('reads one command with its arguments', () => {
    expect(stagesOf('hello from webmk')).toEqual([{ name: 'hello', args: ['from', 'webmk'] }]);
  });

  it('splits stages at |, with or without spaces around it', () => {
    const want = [
      { name: 'seq', args: ['1', '100'] },
      { name: 'grep', args: ['7'] },
      { name: 'wc', args: [] },
    ];
    expect(stagesOf('seq 1 100 | grep 7 | wc')).toEqual(want);
    expect(stagesOf('seq 1 100|grep 7|wc')).toEqual(want);
    expect(stagesOf('  seq   1 100 |grep 7   |   wc  ')).toEqual(want);
  });

  it('keeps a | inside quotes as part of the word', () => {
    expect(stagesOf('echo "a | b" | wc')).toEqual([
      { name: 'echo', args: ['a | b'] },
      { name: 'wc', args: [] },
    ]);
    expect(stagesOf('grep "|"')).toEqual([{ name: 'grep', args: ['|'] }]);
  });

  it('follows the args field quoting: escaped quotes do not end a quoted word', () => {
    expect(stagesOf('echo "say \\"|\\" here" | wc')).toEqual([
      { name: 'echo', args: ['say "|" here'] },
      { name: 'wc', args: [] },
    ]);
    expect(stagesOf('echo "back\\\\" | wc')).toEqual([
      { name: 'echo', args: ['back\\'] },
      { name: 'wc', args: [] },
    ]);
  });

  it('lets an unclosed quote run to the end, pipes and all', () => {
    expect(stagesOf('echo "a | wc')).toEqual([{ name: 'echo', args: ['a | wc'] }]);
  });

  it('keeps empty quoted arguments', () => {
    expect(stagesOf('hello "" | wc')).toEqual([
      { name: 'hello', args: [''] },
      { name: 'wc', args: [] },
    ]);
  });

  it('refuses an empty line and empty stages, saying where', () => {
    expect(errorOf('')).toMatch(/Type a command/);
    expect(errorOf('   ')).toMatch(/Type a command/);
    expect(errorOf('| wc')).toMatch(/before the first \|/);
    expect(errorOf('seq 3 |')).toMatch(/after the last \|/);
    expect(errorOf('seq 3 | | wc')).toMatch(/between two \|/);
    expect(errorOf('seq 3 || wc')).toMatch(/between two \|/);
    expect(errorOf('|')).toMatch(/missing/);
  });

  it('refuses a stage whose name is an empty quoted word', () => {
    expect(errorOf('"" a | wc')).toMatch(/missing/);
  });
});

describe('splitPipes', () => {
  it('keeps the text of each piece as typed, quotes included', () => {
    expect(splitPipes('a "x|y" | b')).toEqual(['a "x|y" ', ' b']);
    expect(splitPipes('no pipes')).toEqual(['no pipes']);
  });
});

describe('parseArgsLine', () => {
  it('makes the module the first stage and splits the rest', () => {
    expect(parseArgsLine('hello', 'a b | wc')).toEqual({
      ok: true,
      stages: [
        { name: 'hello', args: ['a', 'b'] },
        { name: 'wc', args: [] },
      ],
    });
    expect(parseArgsLine('hello', '')).toEqual({ ok: true, stages: [{ name: 'hello', args: [] }] });
    expect(parseArgsLine('hello', '"a|b"')).toEqual({ ok: true, stages: [{ name: 'hello', args: ['a|b'] }] });
  });

  it('refuses an empty stage after the module', () => {
    expect(parseArgsLine('hello', 'a |')).toMatchObject({ ok: false, error: expect.stringMatching(/after the last/) });
    expect(parseArgsLine('hello', '| | wc')).toMatchObject({ ok: false, error: expect.stringMatching(/between two/) });
  });
});

describe('formatCommandLine', () => {
  it('round-trips through the parser', () => {
    for (const line of ['seq 1 100 | grep 7 | wc', 'echo "a | b" "" "say \\"hi\\"" | wc', 'hello']) {
      const stages = stagesOf(line);
      expect(stagesOf(formatCommandLine(stages))).toEqual(stages);
    }
    expect(formatCommandLine(stagesOf('echo "a|b"  x |wc'))).toBe('echo "a|b" x | wc');
  });
});
