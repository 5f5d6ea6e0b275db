/** What a figure reports: rows of the table, each webmk figure beside its raw baseline. */

/** One row: a webmk figure and the baseline measured in the same run. */
export interface Row {
  /** Short id, e.g. `a.p50`. */
  id: string;
  /** What is measured, in words. */
  figure: string;
  unit: string;
  /** `lower` for latencies, `higher` for throughputs. */
  better: 'lower' | 'higher';
  webmk: number | null;
  /** What the baseline is, in words. */
  baseline: string;
  raw: number | null;
  /** webmk / raw. */
  ratio: number | null;
  /** The target on the ratio, if the issue sets one. */
  target?: { op: '<=' | '>='; ratio: number };
  note?: string;
  /** The peer that does the same job (another project), measured in the same run; `ratio` is webmk / its value. */
  peer?: { name: string; value: number | null; ratio: number | null };
}

/** A webmk-only measurement that explains where a figure's time goes. */
export interface Part {
  id: string;
  what: string;
  value: number;
  unit: string;
}

/** A figure's rows, its breakdown, and the samples behind them. */
export interface FigureResult {
  rows: Row[];
  breakdown: Part[];
  detail: Record<string, unknown>;
}

/** A row with its ratio filled in. */
export function row(r: Omit<Row, 'ratio' | 'peer'> & { peer?: { name: string; value: number | null } }): Row {
  const of = (x: number | null): number | null => (r.webmk !== null && x !== null && x !== 0 ? r.webmk / x : null);
  const { peer, ...rest } = r;
  return { ...rest, ratio: of(r.raw), ...(peer !== undefined ? { peer: { ...peer, ratio: of(peer.value) } } : {}) };
}

/** The value at quantile `q` (0..1) of `xs`, nearest rank. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i] ?? NaN;
}

export const median = (xs: number[]): number => quantile(xs, 0.5);

/** Rounds for the JSON (microsecond resolution is all the page clock has). */
export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Samples rounded for the JSON detail. */
export const samples = (xs: number[]): number[] => xs.map((x) => round(x));
