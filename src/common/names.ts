/**
 * Naming rules every layer checks the same way: module names and bus topics.
 */

const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A module name: a letter or digit, then letters, digits, ".", "_", "-"; at most 64. */
export function isModuleName(s: string): boolean {
  return MODULE_NAME.test(s);
}

/** A topic: printable, no spaces, 1..255 bytes, `/`-separated; patterns may end in `/*` or be `*`. */
export function isTopic(s: string, pattern = false): boolean {
  if (s.length === 0 || s.length > 255 || !/^[\x21-\x7e]+$/.test(s)) return false;
  if (!pattern) return !s.includes('*');
  return s === '*' || (!s.slice(0, -2).includes('*') && (!s.includes('*') || s.endsWith('/*')));
}

/** True when `topic` matches the exact name or `prefix/*` pattern (`*` matches everything). */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return topic.startsWith(pattern.slice(0, -1));
  return pattern === topic;
}

/** True when some granted pattern covers `topic` (or, for a subscription, the whole pattern). */
export function topicAllowed(granted: readonly string[], topic: string): boolean {
  return granted.some((g) => topicMatches(g, topic) || (topic.endsWith('/*') && g.endsWith('/*') && topic.startsWith(g.slice(0, -1))));
}
