/**
 * The `.dockerignore` matcher (moby/patternmatcher semantics): patterns apply in order, the last
 * one that matches a path — or any of its parent directories — decides, and `!pattern` re-includes.
 * Paths are slash-separated and relative to the context root.
 */
import { DockerignorePatternError } from "./errors.js";
import { BadPatternError, filepathMatch } from "./filepath-match.js";
import { cleanPath, dirPath, goTrimSpace } from "./go-path.js";
import { compilePattern, type CompiledPattern } from "./pattern.js";

/** Per-pattern results for a directory, handed to its children by a walker. */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[];
}

export interface PatternMatcher {
  /** The compiled patterns, in order (empty ones dropped). */
  readonly patterns: readonly CompiledPattern[];
  /** True when at least one pattern is a `!` exclusion. */
  readonly hasExclusions: boolean;
  /** Whether `path` is excluded: cleaned first; the context root `.` is never excluded. */
  matches(path: string): boolean;
  /** Whether `path` (used as given) or one of its parents is excluded by the last applicable pattern. */
  matchesOrParentMatches(path: string): boolean;
  /** Only the path itself, no parent directories. */
  matchesExact(path: string): boolean;
  /**
   * For walkers: the same answer as `matchesOrParentMatches`, using the `info` returned for the
   * parent directory (omit it for a top-level entry) instead of re-checking every parent.
   */
  matchesUsingParentResults(path: string, parent?: MatchInfo): { matched: boolean; info: MatchInfo };
  /**
   * `matchesUsingParentResults(path, parent).matched` without the info, which a walker keeps only
   * for directories (a context walk asks for every file: no arrays or objects per call).
   */
  matchedUsingParentResults(path: string, parent?: MatchInfo): boolean;
}

/**
 * Compiles patterns as they come from `readDockerignore` or `COPY --exclude`. Each is trimmed and
 * cleaned; empty ones are dropped. Throws DockerignorePatternError for a lone `!` or bad syntax.
 */
export function compilePatterns(patterns: readonly string[], options?: { file?: string }): PatternMatcher {
  const compiled: CompiledPattern[] = [];
  for (const raw of patterns) {
    let p = goTrimSpace(raw);
    if (p === "") continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith("!")) {
      if (p.length === 1) throw new DockerignorePatternError(raw, 'illegal exclusion pattern: "!"', options?.file);
      exclusion = true;
      p = p.slice(1);
    }
    compiled.push(compileChecked(raw, p, exclusion, options?.file));
  }
  return new Matcher(compiled);
}

function compileChecked(raw: string, p: string, exclusion: boolean, file?: string): CompiledPattern {
  try {
    filepathMatch(p, ".");
    return compilePattern(p, exclusion);
  } catch (err) {
    const reason = err instanceof BadPatternError ? "syntax error in pattern" : (err as Error).message;
    throw new DockerignorePatternError(raw, reason, file, { cause: err });
  }
}

class Matcher implements PatternMatcher {
  readonly hasExclusions: boolean;
  constructor(readonly patterns: readonly CompiledPattern[]) {
    this.hasExclusions = patterns.some((p) => p.exclusion);
  }

  matches(path: string): boolean {
    const clean = cleanPath(path);
    return clean === "." ? false : this.matchesOrParentMatches(clean);
  }

  matchesOrParentMatches(path: string): boolean {
    const parents = parentPrefixes(path);
    let matched = false;
    for (const pattern of this.patterns) {
      // An inclusion cannot change an already excluded path, an exclusion a not yet excluded one.
      if (pattern.exclusion !== matched) continue;
      if (pattern.match(path) || parents.some((d) => pattern.match(d))) matched = !pattern.exclusion;
    }
    return matched;
  }

  matchesExact(path: string): boolean {
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      if (pattern.match(path)) matched = !pattern.exclusion;
    }
    return matched;
  }

  matchesUsingParentResults(path: string, parent?: MatchInfo): { matched: boolean; info: MatchInfo } {
    const results = new Array<boolean>(this.patterns.length);
    const matched = this.walk(path, parent, results);
    return { matched, info: { parentMatched: results } };
  }

  matchedUsingParentResults(path: string, parent?: MatchInfo): boolean {
    return this.walk(path, parent, undefined);
  }

  /** Applies every pattern to `path` given its parent's results; each pattern's result goes to `results`. */
  private walk(path: string, parent: MatchInfo | undefined, results: boolean[] | undefined): boolean {
    const known = parent?.parentMatched;
    const patterns = this.patterns;
    if (known && known.length !== patterns.length) throw new Error("wrong number of values in parentMatched");
    let parents: string[] | undefined;
    let matched = false;
    for (let i = 0; i < patterns.length; i++) {
      const pattern = patterns[i]!;
      let match = known !== undefined && known[i] === true;
      if (!match && pattern.exclusion === matched) {
        match = pattern.match(path);
        if (!match && !known) {
          parents ??= parentPrefixes(path);
          match = parents.some((d) => pattern.match(d));
        }
      }
      if (results) results[i] = match;
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}

/** `a/b/c` → `["a", "a/b"]`; empty for a top-level path (Go: `Dir(path) == "."`). */
function parentPrefixes(path: string): string[] {
  const parent = dirPath(path);
  if (parent === ".") return [];
  const parts = parent.split("/");
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}
