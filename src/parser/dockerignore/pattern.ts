/**
 * One `.dockerignore` pattern compiled the way moby/patternmatcher does: an exact string, a prefix
 * (`dir/**`), a suffix (`**` + rest) or an anchored regular expression. `*` and `?` never cross `/`;
 * `**` crosses any number of directories, including none.
 */

export type MatchType = "exact" | "prefix" | "suffix" | "regexp";

export interface CompiledPattern {
  /** The pattern after trim and clean, without a leading `!`. */
  readonly text: string;
  /** True for `!pattern`: a match re-includes the path. */
  readonly exclusion: boolean;
  readonly matchType: MatchType;
  /** The Go (RE2) form of the expression, kept for conformance checks; only for `regexp`. */
  readonly goRegexp?: string;
  /** Whether the pattern matches `path` exactly (parents are the matcher's business). */
  match(path: string): boolean;
}

/** Characters escaped because they are regexp syntax without meaning in a path pattern. */
const ESCAPED = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/**
 * Builds the matcher for a cleaned pattern. Throws (a plain Error) when the expression does not
 * compile, e.g. the reversed range in `[Local-Only]`.
 */
export function compilePattern(text: string, exclusion: boolean): CompiledPattern {
  const chars = Array.from(text);
  let go = "^";
  let js = "^";
  let type: MatchType = "exact";
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const start = i;
    const ch = chars[i]!;
    if (ch === "*") {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++; // `**/` is the same as `**`
        if (i + 1 >= chars.length) {
          if (type === "exact") type = "prefix";
          else {
            go += ".*";
            js += ANY + "*";
            type = "regexp";
          }
        } else {
          go += "(.*/)?";
          js += `(?:${ANY}*/)?`;
          type = "regexp";
        }
        // A pattern starting with `**` matches by suffix.
        if (start === 0) type = "suffix";
      } else {
        go += "[^/]*";
        js += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      go += "[^/]";
      js += "[^/]";
      type = "regexp";
    } else if (ESCAPED.has(ch)) {
      go += "\\" + ch;
      js += "\\" + ch;
    } else if (ch === "\\") {
      if (i + 1 < chars.length) {
        const next = chars[++i]!;
        go += "\\" + next;
        js += jsEscape(next);
        type = "regexp";
      } else {
        go += "\\\\";
        js += "\\\\";
      }
    } else if (ch === "[" || ch === "]") {
      go += ch;
      // RE2 reads a `[` inside a class and a `]` outside one as literals; JS's `u` mode rejects them.
      if (ch === "[") js += inClass ? "\\[" : "[";
      else js += inClass ? "]" : "\\]";
      inClass = ch === "[" ? true : false;
      type = "regexp";
    } else {
      go += ch;
      js += ch;
    }
  }
  if (type === "regexp") {
    const re = new RegExp(js + "$", "u");
    return { text, exclusion, matchType: type, goRegexp: go + "$", match: (p) => re.test(p) };
  }
  return { text, exclusion, matchType: type, match: simpleMatcher(type, text) };
}

/** RE2's `.`: any code point except newline (JS's `.` also stops at \r, U+2028, U+2029). */
const ANY = "[^\\n]";

function simpleMatcher(type: MatchType, text: string): (p: string) => boolean {
  if (type === "exact") return (p) => p === text;
  if (type === "prefix") {
    const prefix = text.slice(0, -2);
    return (p) => p.startsWith(prefix);
  }
  const suffix = text.slice(2);
  return (p) => p.endsWith(suffix) || (suffix.startsWith("/") && p === suffix.slice(1));
}

/**
 * The JS spelling of RE2's `\x` escape: punctuation is a literal (JS's `u` mode rejects most such
 * escapes), the letter escapes RE2 knows keep their meaning, anything else is a syntax error.
 */
function jsEscape(ch: string): string {
  if (/^[\p{P}\p{S}]$/u.test(ch) && ch.length === 1 && ch.charCodeAt(0) < 0x80) {
    return `\\u{${ch.codePointAt(0)!.toString(16)}}`;
  }
  switch (ch) {
    case "a":
      return "\\x07";
    case "f":
    case "t":
    case "n":
    case "r":
    case "v":
    case "d":
    case "D":
    case "s":
    case "S":
    case "w":
    case "W":
    case "b":
    case "B":
      return "\\" + ch;
    case "A":
      return "^";
    case "z":
      return "$";
  }
  throw new Error(`invalid escape sequence: \\${ch}`);
}
