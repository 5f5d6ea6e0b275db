/**
 * Semantic versions and the range forms package dependencies use (npm's, without pre-release
 * matching rules beyond exact equality): `1.2.3`, `=1.2.3`, `^1.2.0`, `~1.2.0`, `>=1.0.0 <2.0.0`,
 * `1.x`, `*`, and alternatives joined with `||`.
 */

type Triple = [number, number, number];

interface Version {
  v: Triple;
  pre: string;
}

const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** A version `MAJOR.MINOR.PATCH[-pre][+build]`, or undefined. */
export function parseVersion(s: string): Version | undefined {
  const m = VERSION.exec(s.trim());
  if (m === null) return undefined;
  return { v: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ?? '' };
}

/** True when `s` is a semantic version. */
export function isVersion(s: string): boolean {
  return parseVersion(s) !== undefined;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const d = (a.v[i] as number) - (b.v[i] as number);
    if (d !== 0) return Math.sign(d);
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  return a.pre < b.pre ? -1 : 1;
}

type Comparator = (v: Version) => boolean;

/** A partial version (`1`, `1.2`, `1.x`, `*`): the parts given, undefined for wildcards. */
function partial(s: string): { parts: Array<number | undefined>; pre: string } | undefined {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?$/.exec(s);
  if (m === null) return undefined;
  const num = (x: string | undefined): number | undefined => (x === undefined || /[xX*]/.test(x) ? undefined : Number(x));
  return { parts: [num(m[1]), num(m[2]), num(m[3])], pre: m[4] ?? '' };
}

function lowest(parts: Array<number | undefined>, pre: string): Version {
  return { v: [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0], pre };
}

/** One comparator of a range (`^1.2.0`, `>=1.0.0`, `1.x`), or undefined if malformed. */
function comparator(token: string): Comparator | undefined {
  const m = /^(\^|~|>=|<=|>|<|=)?(.+)$/.exec(token);
  if (m === null) return undefined;
  const op = m[1] ?? '';
  const p = partial(m[2] as string);
  if (p === undefined) return undefined;
  const [major, minor, patch] = p.parts;
  const low = lowest(p.parts, p.pre);
  const exactParts = major !== undefined && minor !== undefined && patch !== undefined;
  const ge = (v: Version): boolean => compare(v, low) >= 0;
  const below = (hi: Triple): Comparator => (v) => compare(v, { v: hi, pre: '' }) < 0 && (v.pre === '' || v.v.join('.') === low.v.join('.'));
  switch (op) {
    case '^': {
      if (major === undefined) return () => true;
      const hi: Triple = major > 0 || minor === undefined ? [major + 1, 0, 0] : minor > 0 || patch === undefined ? [0, minor + 1, 0] : [0, 0, (patch ?? 0) + 1];
      const lt = below(hi);
      return (v) => ge(v) && lt(v);
    }
    case '~': {
      if (major === undefined) return () => true;
      const lt = below(minor === undefined ? [major + 1, 0, 0] : [major, minor + 1, 0]);
      return (v) => ge(v) && lt(v);
    }
    case '>=':
      return ge;
    case '>':
      return exactParts ? (v) => compare(v, low) > 0 : (v) => !wildcardMatch(p.parts)(v) && compare(v, low) > 0;
    case '<':
      return (v) => compare(v, low) < 0;
    case '<=':
      return exactParts ? (v) => compare(v, low) <= 0 : (v) => compare(v, low) < 0 || wildcardMatch(p.parts)(v);
    default:
      return exactParts ? (v) => compare(v, low) === 0 : wildcardMatch(p.parts);
  }
}

function wildcardMatch(parts: Array<number | undefined>): Comparator {
  return (v) => v.pre === '' && parts.every((n, i) => n === undefined || v.v[i] === n);
}

/** The range parsed into alternatives of comparator sets, or undefined if malformed. */
function parseRange(range: string): Comparator[][] | undefined {
  const alternatives = range.split('||').map((alt) => alt.trim());
  const out: Comparator[][] = [];
  for (const alt of alternatives) {
    if (alt === '' || alt === '*' || alt === 'x') {
      out.push([(v) => v.pre === '']);
      continue;
    }
    const tokens = alt.replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1').split(/\s+/);
    const set: Comparator[] = [];
    for (const t of tokens) {
      const c = comparator(t);
      if (c === undefined) return undefined;
      set.push(c);
    }
    out.push(set);
  }
  return out;
}

/** True when `range` is a range this module understands. */
export function isRange(range: string): boolean {
  return range.length <= 256 && parseRange(range) !== undefined;
}

/** True when `version` is in `range`. */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  const r = parseRange(range);
  if (v === undefined || r === undefined) return false;
  return r.some((set) => set.every((c) => c(v)));
}
