/**
 * Parser directives (`# syntax=`, `# escape=`, `# check=`), recognised only in the leading block
 * of comment lines, after BuildKit's directives.go.
 */
import { LineParseError } from "./line-parsers.js";
import type { Directives } from "./types.js";

const RE_DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const KNOWN = new Set(["syntax", "escape", "check"]);

export class DirectiveScanner {
  readonly directives: Directives = { escape: "\\" };
  private done = false;
  private readonly seen = new Set<string>();

  /** Looks at one (left-trimmed, newline-free) line; throws LineParseError for a bad directive. */
  scan(line: string): void {
    if (this.done) return;
    const m = RE_DIRECTIVE.exec(line);
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !KNOWN.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new LineParseError("parse/duplicate-directive", `only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2]!;
    if (key === "escape") {
      if (value !== "\\" && value !== "`") {
        throw new LineParseError("parse/bad-escape", `invalid escape token '${value}' does not match \` or \\`);
      }
      this.directives.escape = value;
    } else if (key === "syntax") {
      this.directives.syntax = value;
    } else {
      this.directives.check = value;
    }
  }
}
