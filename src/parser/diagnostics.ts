/** Builds the parser's LocatedErrors and "did you mean" hints. */
import { AggregateLocatedError, LocatedError } from "../errors/index.js";
import type { Range } from "./types.js";

export interface SourceRef {
  file: string;
  text: string;
}

/** A LocatedError spanning `range` of `src`, with a code frame. */
export function locatedError(
  code: string,
  detail: string,
  src: SourceRef,
  range: Range,
  notes?: string[],
): LocatedError {
  return new LocatedError(
    code,
    detail,
    {
      file: src.file,
      line: range.start.line,
      column: range.start.column,
      endLine: range.end.line,
      endColumn: range.end.column,
    },
    { sourceText: src.text, ...(notes ? { notes } : {}) },
  );
}

/** Throws nothing for no errors, the error itself for one, an AggregateLocatedError for more. */
export function throwCollected(code: string, errors: LocatedError[]): void {
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new AggregateLocatedError(code, errors);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `word` (case-insensitive) when it is close enough to be a typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return bestDist <= Math.max(2, Math.min(3, Math.floor(word.length / 3))) ? best : undefined;
}

/** ` (did you mean X?)` or the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const s = suggest(word, candidates);
  return s === undefined ? "" : ` (did you mean ${s}?)`;
}
