/**
 * Shell-word expansion with the semantics of BuildKit's Dockerfile lexer (`frontend/dockerfile/shell`):
 * quotes, the escape token, `$VAR`, `${VAR}` and the `${VAR<op>word}` operators. It never runs a
 * shell; it only does what Dockerfile instructions (COPY, ENV, WORKDIR, …) need.
 */
import { ShellExpansionError, ShellScanError } from "./errors.js";
import { replacePattern, trimPrefix, trimSuffix } from "./pattern.js";
import { WordCollector } from "./words.js";

/** The result of one expansion, with the variable names it looked up. */
export interface ShellWordResult {
  /** The word expanded as one string (whitespace kept). */
  result: string;
  /** The word split into fields, as `processWords` returns. */
  words: string[];
  /** Names looked up and found in the environment. */
  matched: Set<string>;
  /** Names looked up and not found (unset). */
  unmatched: Set<string>;
}

const EOF = undefined;

/**
 * Expands words the way BuildKit does. One instance may be reused, not shared between concurrent
 * calls. The option fields mirror BuildKit's `Lex` flags and are all off by default.
 */
export class ShellLex {
  /** Keep quote characters in the result. */
  rawQuotes = false;
  /** Keep escape tokens in the result. */
  rawEscapes = false;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes = false;
  /** Leave references to unset variables as written (`$X`, `${X:-w}`). */
  skipUnsetEnv = false;

  constructor(readonly escapeToken: "\\" | "`") {}

  /** Expands `word` into one string: quotes removed, escapes processed, no word splitting. */
  processWord(word: string, env: ReadonlyMap<string, string>): string {
    return this.processWordWithMatches(word, env).result;
  }

  /** Expands `word` and splits it into fields on unquoted whitespace (also inside unquoted expansions). */
  processWords(word: string, env: ReadonlyMap<string, string>): string[] {
    return this.processWordWithMatches(word, env).words;
  }

  /** Expands `word` and reports which variable names were referenced (found or not). */
  processWordWithMatches(word: string, env: ReadonlyMap<string, string>): ShellWordResult {
    const scan = new WordScanner(this, word, env);
    try {
      const { result, words } = scan.processStopOn(EOF, this.rawEscapes);
      return { result, words, matched: scan.matched, unmatched: scan.unmatched };
    } catch (err) {
      if (err instanceof ShellScanError) throw new ShellExpansionError(err.code, err.message, word);
      throw err;
    }
  }
}

/** One pass over one word; holds the cursor and the lookup records. */
class WordScanner {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    private readonly lex: ShellLex,
    word: string,
    private readonly env: ReadonlyMap<string, string>,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = lex.rawEscapes;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== EOF) this.pos++;
    return ch;
  }

  /** Reads up to `stopChar` (consumed) or the end of the word; a missing stop char is an error. */
  processStopOn(stopChar: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scanUntil(stopChar);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scanUntil(stopChar: string | undefined): { result: string; words: string[] } {
    let result = "";
    const words = new WordCollector();
    const quotes = !this.lex.skipProcessQuotes;
    while (this.peek() !== EOF) {
      const ch = this.peek()!;
      if (stopChar !== EOF && ch === stopChar) {
        this.next();
        return { result, words: words.finish() };
      }
      if (ch === "$") {
        const value = this.processDollar();
        result += value;
        words.addString(value);
      } else if (quotes && (ch === "'" || ch === '"')) {
        const value = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += value;
        words.addRaw(value);
      } else {
        let c = this.next()!;
        if (c === this.lex.escapeToken) {
          if (this.rawEscapes) {
            words.addRaw(c);
            result += c;
          }
          // The escape token escapes the next character; at the end of the word it is dropped.
          const escaped = this.next();
          if (escaped === EOF) break;
          c = escaped;
          words.addRaw(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
    }
    if (stopChar !== EOF) {
      throw new ShellScanError("shell/syntax", `unexpected end of statement while looking for matching ${stopChar}`);
    }
    return { result, words: words.finish() };
  }

  private processSingleQuote(): string {
    let result = "";
    const open = this.next()!;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) {
        throw new ShellScanError("shell/syntax", "unexpected end of statement while looking for matching single-quote");
      }
      if (ch === "'") {
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = "";
    const open = this.next()!;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const peeked = this.peek();
      if (peeked === EOF) {
        throw new ShellScanError("shell/syntax", "unexpected end of statement while looking for matching double-quote");
      }
      if (peeked === '"') {
        this.next();
        if (this.lex.rawQuotes) result += '"';
        return result;
      }
      if (peeked === "$") {
        result += this.processDollar();
        continue;
      }
      let ch = this.next()!;
      if (ch === this.lex.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        // Inside double quotes only `"`, `$` and the escape token itself can be escaped.
        if (after === EOF) continue;
        if (after === '"' || after === "$" || after === this.lex.escapeToken) ch = this.next()!;
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const found = this.getEnv(name);
      if (found === undefined && this.lex.skipUnsetEnv) return "$" + name;
      return found ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new ShellScanError("shell/syntax", "syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") {
      throw new ShellScanError("shell/syntax", "syntax error: bad substitution");
    }
    const name = this.processName();
    const op = this.next();
    if (op === "}") {
      const value = this.getEnv(name);
      if (value === undefined && this.lex.skipUnsetEnv) return `\${${name}}`;
      return value ?? "";
    }
    if (op === ":") return this.processModifier(name, this.next(), true);
    if (op === "+" || op === "-" || op === "?" || op === "#" || op === "%") {
      return this.processModifier(name, op, false);
    }
    if (op === "/") return this.processReplace(name);
    // BuildKit reports a garbled "unsupported modifier" here; the real problem is the missing brace.
    if (op === EOF) throw new ShellScanError("shell/syntax", "syntax error: missing '}'");
    throw new ShellScanError("shell/unsupported-modifier", `unsupported modifier (${op ?? ""}) in substitution`);
  }

  /** `${name<op>word}` and `${name:<op>word}`; `op` is the operator character after the optional `:`. */
  private processModifier(name: string, op: string | undefined, colon: boolean): string {
    const written = (colon ? ":" : "") + (op ?? "");
    const word = this.readUntilBrace(op === "#" || op === "%");
    const value = this.getEnv(name);
    if (this.lex.skipUnsetEnv && value === undefined) return `\${${name}${written}${word}}`;
    const unsetOrNull = value === undefined || (colon && value === "");
    switch (op) {
      case "-":
        return unsetOrNull ? word : value!;
      case "+":
        return unsetOrNull ? "" : word;
      case "?":
        if (value === undefined) throw requiredError(name, word, "is not allowed to be unset");
        if (colon && value === "") throw requiredError(name, word, "is not allowed to be empty");
        return value;
      case "#":
      case "%": {
        if (colon) break;
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return op === "%" ? trimSuffix(pattern, value ?? "", greedy) : trimPrefix(pattern, value ?? "", greedy);
      }
    }
    throw new ShellScanError("shell/unsupported-modifier", `unsupported modifier (${written}) in substitution`);
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`. */
  private processReplace(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn("/", true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellScanError("shell/syntax", "syntax error: missing '/' in ${}");
      throw err;
    }
    const replacement = this.readUntilBrace(true);
    const value = this.getEnv(name);
    if (this.lex.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    return replacePattern(value ?? "", pattern, replacement, all);
  }

  private readUntilBrace(rawEscapes: boolean): string {
    try {
      return this.processStopOn("}", rawEscapes).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellScanError("shell/syntax", "syntax error: missing '}'");
      throw err;
    }
  }

  /** A name: letters, digits, `_`; or only leading digits (positional); or one special parameter. */
  private processName(): string {
    let name = "";
    while (this.peek() !== EOF) {
      const ch = this.peek()!;
      if (name === "" && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === "" && SPECIAL_PARAMS.has(ch)) return this.next()!;
      if (!isLetter(ch) && !isDigit(ch) && ch !== "_") break;
      name += this.next();
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    const value = this.env.get(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }
}

const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

function requiredError(name: string, word: string, fallback: string): ShellScanError {
  return new ShellScanError("shell/required-variable", `${name}: ${word !== "" ? word : fallback}`);
}
