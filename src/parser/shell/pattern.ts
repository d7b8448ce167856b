/**
 * The shell patterns of `${V#p}`, `${V%p}` and `${V/p/r}`: `*` any string, `?` one character,
 * `\` escapes `*`, `?` or `\` (no bracket classes), as BuildKit's lexer implements them.
 */
import { ShellScanError } from "./errors.js";

const REGEX_SPECIAL = new Set(["[", "]", "{", "}", ".", "+", "(", ")", "|", "^", "$"]);

/** Converts a shell pattern to a RegExp source (code-point mode). Throws on a bad escape. */
export function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  // `.` must mean "any code point but \n" as in Go's RE2, not JS's "but any line terminator".
  const any = "[^\\n]";
  let out = anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*") {
      out += greedy ? `${any}*` : `${any}*?`;
    } else if (ch === "?") {
      out += any;
    } else if (ch === "\\") {
      const next = chars[i + 1];
      // `\}` and `\/` were needed to write the pattern inside `${…}`; the escape is not part of it.
      if (next === "}" || next === "/") continue;
      if (next !== "*" && next !== "?" && next !== "\\") {
        throw new ShellScanError(
          "shell/bad-pattern",
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ""}'`,
        );
      }
      out += "\\" + next;
      i++;
    } else if (REGEX_SPECIAL.has(ch)) {
      out += "\\" + ch;
    } else {
      out += ch;
    }
  }
  return new RegExp(out, "u");
}

/** Removes the shortest (or longest, `greedy`) prefix of `value` matching `pattern`. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Removes the shortest (or longest) suffix: the prefix search run on reversed text and pattern. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const reversed = trimPrefix(reversePattern(pattern), reverseString(value), greedy);
  return reverseString(reversed);
}

/** Reverses a pattern but keeps each `\x` escape pair in order (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === "\\" && i !== chars.length - 1) {
      out.unshift("\\" + chars[i + 1]!);
      i += 2;
    } else {
      out.unshift(chars[i]!);
      i++;
    }
  }
  return out.join("");
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join("");
}

/** Replaces the first (or every) match of `pattern` in `value`, as `${V/p/r}` and `${V//p/r}`. */
export function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const re = shellPatternToRegex(pattern, true, false);
  if (!all) {
    const m = re.exec(value);
    return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
  }
  // Go's ReplaceAllString expands `$0`/`${0}` (whole match), `$$`, and `$name` (empty: no groups),
  // and skips an empty match right after a previous match; JS's replace does neither.
  const global = new RegExp(re.source, "gu");
  let out = "";
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    global.lastIndex = searchPos;
    const m = global.exec(value);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += expandGoTemplate(replacement, m[0]);
    lastEnd = end;
    const width = (value.codePointAt(searchPos) ?? 0) > 0xffff ? 2 : 1;
    searchPos = searchPos + width > end ? searchPos + width : end;
  }
  return out + value.slice(lastEnd);
}

function expandGoTemplate(template: string, match: string): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch !== "$" || i + 1 >= template.length) {
      out += ch;
      continue;
    }
    if (template[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (template[i + 1] === "{") {
      const close = template.indexOf("}", i + 2);
      const inner = close < 0 ? "" : template.slice(i + 2, close);
      if (/^[A-Za-z0-9_]+$/.test(inner)) {
        name = inner;
        end = close + 1;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + 1 + m[0].length;
      }
    }
    if (name === undefined) {
      out += "$";
      continue;
    }
    if (/^[0-9]+$/.test(name) && Number(name) === 0) out += match;
    i = end - 1;
  }
  return out;
}
