/**
 * A typed command line (`seq 1 100 | grep 7 | wc`) as pipeline stages: an unquoted `|` separates
 * stages, and each stage is split into words like the args field (see `splitArgs`).
 */
import { splitArgs } from './args';

/** One stage: the module to run and its argv[1..]. */
export interface CommandStage {
  name: string;
  args: string[];
}

/** The stages of a line, or why it cannot run (in words for the person who typed it). */
export type ParsedCommandLine = { ok: true; stages: CommandStage[] } | { ok: false; error: string };

/**
 * Cuts `text` at every `|` outside double quotes, keeping each piece's text as typed (quotes
 * included) for `splitArgs`. Quotes follow `splitArgs`: inside them `\"` and `\\` are escapes.
 */
export function splitPipes(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      const next = text[i + 1];
      if (c === '\\' && (next === '"' || next === '\\')) i += 1;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === '|') {
      pieces.push(text.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** Parses a command line into stages; a line with an empty stage (`a | | b`, `a |`) is an error. */
export function parseCommandLine(text: string): ParsedCommandLine {
  const pieces = splitPipes(text).map((p) => splitArgs(p));
  if (pieces.length === 1 && pieces[0]?.length === 0) return { ok: false, error: 'Type a command, such as hello or seq 1 10 | wc.' };
  const stages: CommandStage[] = [];
  for (const [i, words] of pieces.entries()) {
    const [name, ...args] = words;
    if (name === undefined || name === '') {
      const where = i === 0 ? 'before the first |' : i === pieces.length - 1 ? 'after the last |' : 'between two |';
      return { ok: false, error: `A command is missing ${where}.` };
    }
    stages.push({ name, args });
  }
  return { ok: true, stages };
}

/**
 * Parses what follows a module's name in its args field: the module is the first stage and the
 * text may go on with `| more stages`.
 */
export function parseArgsLine(name: string, text: string): ParsedCommandLine {
  const [first = '', ...rest] = splitPipes(text);
  const stages: CommandStage[] = [{ name, args: splitArgs(first) }];
  for (const [i, piece] of rest.entries()) {
    const [next, ...args] = splitArgs(piece);
    if (next === undefined || next === '') {
      return { ok: false, error: `A command is missing ${i === rest.length - 1 ? 'after the last |' : 'between two |'}.` };
    }
    stages.push({ name: next, args });
  }
  return { ok: true, stages };
}

/** The stages as one line again (for a window title), quoting words only where needed. */
export function formatCommandLine(stages: readonly CommandStage[]): string {
  return stages.map((s) => [s.name, ...s.args].map(quoteWord).join(' ')).join(' | ');
}

function quoteWord(w: string): string {
  return w === '' || /[\s"\\|]/.test(w) ? `"${w.replace(/[\\"]/g, (m) => `\\${m}`)}"` : w;
}
