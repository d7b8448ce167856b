/**
 * Data types of the Dockerfile parser. Two layers, after BuildKit:
 * - `AstNode`: one untyped node per instruction (keyword, raw flags, argument words, heredocs),
 *   what BuildKit's `parser.Node` holds and what `dumpAst` renders;
 * - `Instruction`: the typed union (tagged on `kind`) built from a node, grouped into `Stage`s.
 * Words are never variable-expanded here; that is the planner's and converter's job.
 */

/** A 1-based position; `column` counts UTF-16 units. */
export interface Position {
  line: number;
  column: number;
}

/** Source range of an instruction: from its keyword to the end of its last line (end is exclusive). */
export interface Range {
  start: Position;
  end: Position;
}

/** A heredoc body as read by the parser. `content` is raw (tabs kept even with `<<-`) and keeps the
 * line endings of the source, so it ends with a newline unless empty. */
export interface Heredoc {
  name: string;
  content: string;
  /** false when any part of the delimiter word was quoted (`<<"EOF"`, `<<'EOF'`, `<<eo'f'`). */
  expand: boolean;
  /** true for `<<-`: leading tabs are stripped from the body (see `chompHeredocContent`). */
  chomp: boolean;
  /** The file descriptor prefix of `3<<EOF`; absent when not written. */
  fd?: number;
}

/** One instruction of the low-level tree, the equivalent of BuildKit's parser.Node. */
export interface AstNode {
  /** The keyword as written (`run`, `RUN`, `Copy`). */
  keyword: string;
  /** Raw flag words with quotes removed (`--mount=type=cache,target=/x`), `--` excluded. */
  flags: string[];
  /** Argument strings in BuildKit's per-instruction shape (ENV/LABEL: key, value, separator triples). */
  args: string[];
  /** For ONBUILD: the nested instruction. */
  child?: AstNode;
  /** true when the arguments were a JSON array (exec form). */
  json: boolean;
  /** The joined logical line (continuations removed), as BuildKit's `Original`. */
  original: string;
  heredocs: Heredoc[];
  range: Range;
  /** Comment lines directly above the instruction, without `#`. */
  comments: string[];
}

export interface Directives {
  syntax?: string;
  escape: "\\" | "`";
  check?: string;
}

/** A non-fatal problem found while parsing (BuildKit warnings and lint-like notes). */
export interface ParseWarning {
  code: string;
  message: string;
  range: Range;
}

export interface Ast {
  file: string;
  text: string;
  directives: Directives;
  nodes: AstNode[];
  warnings: ParseWarning[];
}
