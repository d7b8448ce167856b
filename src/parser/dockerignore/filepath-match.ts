/**
 * Go's `filepath.Match` on Linux: `*` (no `/`), `?`, `[...]`/`[^...]` classes with ranges, and `\`
 * escapes. Docker validates `.dockerignore` patterns with it, and COPY/ADD sources use it for
 * wildcards. Works on code points, as Go works on runes.
 */

/** Thrown for malformed patterns (Go's `filepath.ErrBadPattern`). */
export class BadPatternError extends Error {
  constructor(readonly pattern: string) {
    super("syntax error in pattern");
  }
}

/** Whether `name` matches `pattern` in full. Throws BadPatternError for a malformed pattern. */
export function filepathMatch(pattern: string, name: string): boolean {
  const result = matchChars(Array.from(pattern), Array.from(name));
  if (result === "bad") throw new BadPatternError(pattern);
  return result;
}

/** Whether the pattern contains any wildcard character (`*`, `?`, `[`, or `\`). */
export function hasMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

type Result = boolean | "bad";

function matchChars(pattern: string[], name: string[]): Result {
  let pat = pattern;
  let nm = name;
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !nm.includes("/");
    const first = matchChunk(chunk, nm);
    if (first === "bad") return "bad";
    if (first !== null && (first.length === 0 || pat.length > 0)) {
      nm = first;
      continue;
    }
    if (star) {
      for (let i = 0; i < nm.length && nm[i] !== "/"; i++) {
        const t = matchChunk(chunk, nm.slice(i + 1));
        if (t === "bad") return "bad";
        if (t !== null) {
          if (pat.length === 0 && t.length > 0) continue;
          nm = t;
          continue outer;
        }
      }
    }
    // Before answering "no", make sure the rest of the pattern is well formed.
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      if (matchChunk(next.chunk, []) === "bad") return "bad";
    }
    return false;
  }
  return nm.length === 0;
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let p = pattern;
  let star = false;
  while (p.length > 0 && p[0] === "*") {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case "\\":
        if (i + 1 < p.length) i++;
        break;
      case "[":
        inRange = true;
        break;
      case "]":
        inRange = false;
        break;
      case "*":
        if (!inRange) break scan;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** Matches one chunk at the start of `s`; returns the rest of `s`, null for no match, "bad" for syntax. */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | null | "bad" {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0]!;
    if (c === "[") {
      let r = "";
      if (!failed) {
        r = s[0]!;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk[0] === "^") {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === "]" && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        if (lo === "bad") return "bad";
        chunk = lo.rest;
        let hi = lo.ch;
        if (chunk[0] === "-") {
          const h = getEsc(chunk.slice(1));
          if (h === "bad") return "bad";
          chunk = h.rest;
          hi = h.ch;
        }
        if (!failed && cp(lo.ch) <= cp(r) && cp(r) <= cp(hi)) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === "?") {
      if (!failed) {
        if (s[0] === "/") failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === "\\") {
        chunk = chunk.slice(1);
        if (chunk.length === 0) return "bad";
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? null : s;
}

function getEsc(chunk: string[]): { ch: string; rest: string[] } | "bad" {
  let c = chunk;
  if (c.length === 0 || c[0] === "-" || c[0] === "]") return "bad";
  if (c[0] === "\\") {
    c = c.slice(1);
    if (c.length === 0) return "bad";
  }
  const rest = c.slice(1);
  if (rest.length === 0) return "bad";
  return { ch: c[0]!, rest };
}

function cp(ch: string): number {
  return ch.codePointAt(0) ?? -1;
}
