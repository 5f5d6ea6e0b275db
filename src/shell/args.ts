/** Turning the args text field into argv and back: spaces separate, double quotes group. */

/**
 * Splits a command line on whitespace; `"..."` keeps spaces (and may be empty), and inside quotes
 * `\"` and `\\` stand for `"` and `\`. An unclosed quote runs to the end of the text.
 */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] ?? '';
    if (quoted) {
      const next = text[i + 1];
      if (c === '\\' && (next === '"' || next === '\\')) {
        current += next;
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        current += c;
      }
    } else if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) args.push(current);
  return args;
}

/** The inverse of `splitArgs`: quotes an argument only when it needs it. */
export function joinArgs(args: readonly string[]): string {
  return args
    .map((a) => (a === '' || /[\s"\\]/.test(a) ? `"${a.replace(/[\\"]/g, (m) => `\\${m}`)}"` : a))
    .join(' ');
}
