/**
 * Splits a joined instruction line into keyword, flag words and the rest, after BuildKit's
 * split_command.go: flags are the leading `--` words; quotes in them are removed and `\` escapes
 * one character; a bare `--` ends the flags and is dropped.
 */

/** Go's unicode.IsSpace. */
export function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
}

/** Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a]!)) a++;
  while (b > a && isSpace(s[b - 1]!)) b--;
  return s.slice(a, b);
}

export function trimLeftSpace(s: string): string {
  let a = 0;
  while (a < s.length && isSpace(s[a]!)) a++;
  return s.slice(a);
}

/** BuildKit's tokenWhitespace / reWhitespace. */
export const RE_WHITESPACE = /[\t\v\f\r ]+/;

export interface SplitCommand {
  keyword: string;
  flags: string[];
  rest: string;
}

export function splitCommand(line: string): SplitCommand {
  const trimmed = trimSpace(line);
  const m = RE_WHITESPACE.exec(trimmed);
  if (!m) return { keyword: trimmed, flags: [], rest: "" };
  const keyword = trimmed.slice(0, m.index);
  const { rest, flags } = extractFlags(trimmed.slice(m.index + m[0].length));
  return { keyword, flags, rest: trimSpace(rest) };
}

function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = line[pos] ?? "";
    if (phase === "spaces") {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== "-" || line[pos + 1] !== "-") return { rest: line.slice(pos), flags };
      phase = "word";
    }
    if (pos === line.length) {
      if (word !== "--" && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (word === "--") return { rest: line.slice(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      if (ch === "\\") {
        if (pos + 1 === line.length) continue;
        pos++;
      }
      word += line[pos];
      continue;
    }
    if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === "\\") {
      if (pos + 1 === line.length) {
        phase = "word";
        continue;
      }
      pos++;
    }
    word += line[pos];
  }
  return { rest: "", flags };
}
