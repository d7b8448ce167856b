/**
 * Renders the low-level tree in BuildKit's debug s-expression format (the `result` files of the
 * conformance suite): `(keyword ["--flag"] "arg" ...)` per instruction, strings quoted like Go's
 * strconv.Quote.
 */
import type { Ast, AstNode } from "./types.js";

const SHORT_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote for a JS string (lone surrogates print as \uXXXX). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x80) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/** One node without the surrounding parentheses, e.g. `copy ["--from=a"] "x" "/y"`. */
export function dumpNode(node: AstNode): string {
  let s = node.keyword.toLowerCase();
  if (node.flags.length > 0) s += " [" + node.flags.map(goQuote).join(" ") + "]";
  if (node.child) s += " (" + dumpNode(node.child) + ")";
  for (const a of node.args) s += " " + goQuote(a);
  return s.trim();
}

/** The whole tree: one `(…)` line per instruction, newline-separated, no trailing newline. */
export function dumpAst(ast: Ast): string {
  return ast.nodes.map((n) => "(" + dumpNode(n) + ")").join("\n").trim();
}
