/**
 * Per-instruction argument shapes of the low-level tree, after BuildKit's line_parsers.go.
 * Each parser gets the text after keyword and flags and returns the argument strings.
 */
import { RE_WHITESPACE, isSpace, trimLeftSpace } from "./split-command.js";

export class LineParseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedArgs {
  args: string[];
  json: boolean;
}

const NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only";

/** Words split on unquoted whitespace; quotes and escapes are kept in the words. */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let i = 0; i <= chars.length; i++) {
    let ch = chars[i] ?? "";
    if (phase === "spaces") {
      if (i === chars.length) break;
      if (isSpace(ch)) continue;
      phase = "word";
    }
    if (i === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue;
        word += ch;
        i++;
        ch = chars[i]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = "word";
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        phase = "word";
        continue;
      }
      i++;
      word += ch;
      ch = chars[i]!;
    }
    word += ch;
  }
  return words;
}

/** ENV and LABEL: key/value/separator triples; legacy `KEY rest` gives an empty separator. */
export function parseNameVal(rest: string, keyword: string, escape: string): ParsedArgs {
  const words = parseWords(rest, escape);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0]!.includes("=")) {
    const m = RE_WHITESPACE.exec(rest);
    if (!m) throw new LineParseError("parse/missing-value", `${keyword} must have two arguments`);
    return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ""], json: false };
  }
  const args: string[] = [];
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq < 0) {
      throw new LineParseError(
        "parse/bad-key-value",
        `Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`,
      );
    }
    args.push(w.slice(0, eq), w.slice(eq + 1), "=");
  }
  return { args, json: false };
}

export function parseWhitespaceList(rest: string): ParsedArgs {
  if (rest === "") return { args: [], json: false };
  return { args: rest.split(new RegExp(RE_WHITESPACE.source)), json: false };
}

export function parseString(rest: string): ParsedArgs {
  return { args: rest === "" ? [] : [rest], json: false };
}

/** The JSON array form, or undefined when `rest` is not a valid JSON array. */
function parseJson(rest: string): string[] | undefined {
  const t = trimLeftSpace(rest);
  if (!t.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === "string")) throw new LineParseError("parse/json-not-strings", NOT_STRING_ARRAY);
  return value as string[];
}

export function parseMaybeJson(rest: string): ParsedArgs {
  if (rest === "") return { args: [], json: false };
  const json = parseJson(rest);
  return json ? { args: json, json: true } : { args: [rest], json: false };
}

export function parseMaybeJsonToList(rest: string): ParsedArgs {
  const json = parseJson(rest);
  return json ? { args: json, json: true } : parseWhitespaceList(rest);
}

/** HEALTHCHECK: the type word, then the rest parsed like CMD. */
export function parseHealthConfig(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep]!)) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next]!)) next++;
  if (sep === 0) return { args: [], json: false };
  const cmd = parseMaybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}
