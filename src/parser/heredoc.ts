/**
 * Heredoc recognition, after BuildKit's parser: the joined line is split into shell words keeping
 * quotes, escapes and `$` text as written (`<<` swallows the blanks after it); each word matching
 * `[fd]<<[-][blanks]NAME` is a heredoc. Any quoting in NAME turns expansion off; BuildKit finds
 * that out by lexing NAME with and without quote removal and comparing the number of quotes.
 */
import type { Heredoc } from "./types.js";

const RE_HEREDOC = /^(\d*)<<(-?)[\t\n\v\f\r ]*([^<]*)$/;
const BLANK = /[ \t\r\n]/;

export class HeredocSyntaxError extends Error {}

interface WordOptions {
  rawQuotes: boolean;
  rawEscapes: boolean;
}

/** Shell-style word split with `$` left as written; throws HeredocSyntaxError on open quotes. */
export function shellWords(s: string, opts: WordOptions): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  const end = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (BLANK.test(ch)) {
      end();
      continue;
    }
    inWord = true;
    if (ch === "\\") {
      if (opts.rawEscapes) word += ch;
      if (i + 1 < s.length) word += s[++i];
    } else if (ch === "'") {
      const close = s.indexOf("'", i + 1);
      if (close < 0) throw new HeredocSyntaxError("unexpected end of statement while looking for matching single-quote");
      word += opts.rawQuotes ? s.slice(i, close + 1) : s.slice(i + 1, close);
      i = close;
    } else if (ch === '"') {
      i = readDoubleQuoted(s, i, opts, (t) => (word += t));
    } else if (ch === "$" && s[i + 1] === "{") {
      const close = matchBrace(s, i + 1);
      word += s.slice(i, close + 1);
      i = close;
    } else if (ch === "<" && s[i + 1] === "<") {
      word += "<<";
      i++;
      while (i + 1 < s.length && /[ \t]/.test(s[i + 1]!)) word += s[++i];
    } else {
      word += ch;
    }
  }
  end();
  return words;
}

function readDoubleQuoted(s: string, start: number, opts: WordOptions, out: (t: string) => void): number {
  if (opts.rawQuotes) out('"');
  for (let i = start + 1; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '"') {
      if (opts.rawQuotes) out('"');
      return i;
    }
    if (ch === "\\" && i + 1 < s.length) {
      const next = s[i + 1]!;
      if (opts.rawEscapes || !'"$\\'.includes(next)) out("\\");
      out(next);
      i++;
      continue;
    }
    if (ch === "$" && s[i + 1] === "{") {
      const close = matchBrace(s, i + 1);
      out(s.slice(i, close + 1));
      i = close;
      continue;
    }
    out(ch);
  }
  throw new HeredocSyntaxError("unexpected end of statement while looking for matching double-quote");
}

function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return i;
  }
  throw new HeredocSyntaxError("missing '}'");
}

const countQuotes = (w: string) => (w.match(/['"]/g) ?? []).length;

/** The heredoc a single word introduces (`<<EOF`, `3<<-"EOF"`), or undefined. */
export function parseHeredocWord(word: string): Omit<Heredoc, "content"> | undefined {
  const m = RE_HEREDOC.exec(word);
  if (!m || m[3] === "") return undefined;
  const rest = m[3]!;
  let words: string[];
  let raw: string[];
  try {
    words = shellWords(rest, { rawQuotes: false, rawEscapes: false });
    raw = shellWords(rest, { rawQuotes: true, rawEscapes: false });
  } catch {
    return undefined;
  }
  if (words.length !== 1 || raw.length !== 1) return undefined;
  const name = words[0]!;
  const heredoc: Omit<Heredoc, "content"> = {
    name,
    expand: countQuotes(name) === countQuotes(raw[0]!),
    chomp: m[2] === "-",
  };
  if (m[1] !== "") heredoc.fd = Number(m[1]);
  return heredoc;
}

/** The heredocs a RUN/COPY/ADD line opens, in order. A line that does not lex has none. */
export function heredocsFromLine(line: string): Omit<Heredoc, "content">[] {
  let words: string[];
  try {
    words = shellWords(line, { rawQuotes: true, rawEscapes: true });
  } catch {
    return [];
  }
  const out: Omit<Heredoc, "content">[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

/** Strips leading tabs from every line of a `<<-` heredoc body. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, "");
}
