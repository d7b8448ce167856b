/**
 * Dockerfile text → low-level tree (`Ast`), after BuildKit's parser.go: directives, BOM, CRLF,
 * comments (also inside continuations), continuation lines with the escape token, empty
 * continuation lines (dropped with a warning), heredoc bodies for RUN/COPY/ADD.
 */
import type { LocatedError } from "../errors/index.js";
import { DirectiveScanner } from "./directives.js";
import { locatedError, throwCollected, type SourceRef } from "./diagnostics.js";
import { heredocsFromLine } from "./heredoc.js";
import {
  LineParseError,
  parseHealthConfig,
  parseMaybeJson,
  parseMaybeJsonToList,
  parseNameVal,
  parseString,
  parseWhitespaceList,
  parseWords,
  type ParsedArgs,
} from "./line-parsers.js";
import { isSpace, splitCommand, trimLeftSpace } from "./split-command.js";
import type { Ast, AstNode, Heredoc, ParseWarning, Range } from "./types.js";

const MAX_LINE_BYTES = 65535;
const HEREDOC_KEYWORDS = new Set(["run", "copy", "add"]);

export interface ParseOptions {
  /** The name used in error locations, e.g. `Dockerfile`. */
  file: string;
}

function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  if (lines[0]?.startsWith("\uFEFF")) lines[0] = lines[0].slice(1);
  return lines;
}

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, "");
const isComment = (raw: string) => trimLeftSpace(trimNewline(raw)).startsWith("#");

function continuationRegex(escape: string): RegExp {
  const e = escape === "\\" ? "\\\\" : escape;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** The argument shape of one instruction keyword (lower-case). */
function parseArgs(keyword: string, rest: string, escape: string): ParsedArgs {
  switch (keyword) {
    case "add":
    case "copy":
    case "volume":
      return parseMaybeJsonToList(rest);
    case "arg":
      return { args: parseWords(rest, escape), json: false };
    case "cmd":
    case "entrypoint":
    case "run":
    case "shell":
      return parseMaybeJson(rest);
    case "env":
      return parseNameVal(rest, "ENV", escape);
    case "label":
      return parseNameVal(rest, "LABEL", escape);
    case "expose":
    case "from":
      return parseWhitespaceList(rest);
    case "healthcheck":
      return parseHealthConfig(rest);
    case "maintainer":
    case "stopsignal":
    case "user":
    case "workdir":
      return parseString(rest);
    default:
      return { args: [""], json: false };
  }
}

/** Builds the node of one joined line; throws LineParseError. */
export function nodeFromLine(line: string, escape: string, range: Range, comments: string[] = []): AstNode {
  const { keyword, flags, rest } = splitCommand(line);
  const lower = keyword.toLowerCase();
  const node: AstNode = { keyword, flags, args: [], json: false, original: line, heredocs: [], range, comments };
  if (lower === "onbuild") {
    if (rest !== "") node.child = nodeFromLine(rest, escape, range);
    return node;
  }
  const { args, json } = parseArgs(lower, rest, escape);
  node.args = args;
  node.json = json;
  return node;
}

function canContainHeredoc(node: AstNode): boolean {
  const n = node.keyword.toLowerCase() === "onbuild" && node.child ? node.child : node;
  return HEREDOC_KEYWORDS.has(n.keyword.toLowerCase()) && !n.json;
}

/**
 * Parses Dockerfile text into the low-level tree. Throws a LocatedError (or an
 * AggregateLocatedError when several instructions are bad).
 */
export function parseAst(text: string, opts: ParseOptions): Ast {
  const src: SourceRef = { file: opts.file, text };
  const lines = splitLines(text);
  const scanner = new DirectiveScanner();
  const nodes: AstNode[] = [];
  const warnings: ParseWarning[] = [];
  const errors: LocatedError[] = [];
  let contRe = continuationRegex("\\");
  let comments: string[] = [];
  let i = 0;
  const lineRange = (n: number): Range => ({
    start: { line: n, column: 1 },
    end: { line: n, column: trimNewline(lines[n - 1] ?? "").length + 1 },
  });
  const processLine = (raw: string, n: number, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (Buffer.byteLength(token) > MAX_LINE_BYTES) {
      throw locatedError("parse/line-too-long", `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, src, lineRange(n));
    }
    if (stripLeft) token = trimLeftSpace(token);
    try {
      scanner.scan(token);
    } catch (e) {
      if (!(e instanceof LineParseError)) throw e;
      errors.push(locatedError(e.code, e.message, src, lineRange(n)));
    }
    contRe = continuationRegex(scanner.directives.escape);
    return token.startsWith("#") ? "" : token;
  };
  const trimContinuation = (s: string): [string, boolean] => (contRe.test(s) ? [s.replace(contRe, "$1"), false] : [s, true]);

  while (i < lines.length) {
    const raw = lines[i]!;
    const startLine = ++i;
    if (isComment(raw)) {
      const c = trimLeftSpace(trimNewline(raw)).slice(1).trim();
      comments = c === "" ? [] : [...comments, c];
    }
    let [line, eol] = trimContinuation(processLine(raw, startLine, true));
    if (eol && line === "") continue;
    let hasEmptyContinuation = false;
    while (!eol && i < lines.length) {
      const next = lines[i]!;
      const token = processLine(next, ++i, false);
      if (isComment(next)) continue;
      if (trimLeftSpace(token) === "") {
        hasEmptyContinuation = true;
        continue;
      }
      const [part, end] = trimContinuation(token);
      line += part;
      eol = end;
    }
    let startColumn = 1;
    while (startColumn <= raw.length && isSpace(raw[startColumn - 1]!)) startColumn++;
    const range: Range = {
      start: { line: startLine, column: startColumn },
      end: { line: i, column: trimNewline(lines[i - 1]!).length + 1 },
    };
    if (hasEmptyContinuation) {
      warnings.push({ code: "NoEmptyContinuation", message: `Empty continuation line found in: ${line}`, range });
    }
    let node: AstNode;
    try {
      node = nodeFromLine(line, scanner.directives.escape, range, comments);
    } catch (e) {
      if (!(e instanceof LineParseError)) throw e;
      errors.push(locatedError(e.code, e.message, src, range));
      comments = [];
      continue;
    }
    comments = [];
    if (canContainHeredoc(node) && line.includes("<<")) {
      for (const h of heredocsFromLine(line)) {
        let content = "";
        let terminated = false;
        while (i < lines.length) {
          const body = lines[i++]!;
          let candidate = trimNewline(body);
          if (h.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        range.end = { line: i, column: trimNewline(lines[i - 1] ?? "").length + 1 };
        if (!terminated) {
          errors.push(locatedError("parse/unterminated-heredoc", `unterminated heredoc ${h.name}`, src, range));
          break;
        }
        node.heredocs.push({ ...h, content } as Heredoc);
      }
    }
    nodes.push(node);
  }
  if (nodes.length === 0 && errors.length === 0) {
    const n = Math.max(1, lines.length);
    errors.push(locatedError("parse/no-instructions", "file with no instructions", src, lineRange(n)));
  }
  throwCollected("parse/errors", errors);
  return { file: opts.file, text, directives: { ...scanner.directives }, nodes, warnings };
}
