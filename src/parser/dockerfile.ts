/**
 * `parseDockerfile`: text → low-level tree → typed instructions grouped into stages. Problems of
 * several instructions are collected and thrown together (AggregateLocatedError).
 */
import type { LocatedError } from "../errors/index.js";
import { parseAst, type ParseOptions } from "./ast.js";
import { locatedError, throwCollected } from "./diagnostics.js";
import { FlagError } from "./instructions/flags.js";
import { parseInstruction } from "./instructions/parse.js";
import type { ArgInstruction, FromInstruction, Instruction } from "./instructions/types.js";
import type { Directives, ParseWarning, Range } from "./types.js";

export interface Stage {
  /** Position among the FROM lines, 0-based. */
  index: number;
  /** `AS name`, lower-cased. */
  name?: string;
  from: FromInstruction;
  /** The instructions after FROM, up to the next FROM. */
  instructions: Instruction[];
  /** From the FROM keyword to the end of the stage's last instruction. */
  range: Range;
}

export interface Dockerfile {
  file: string;
  text: string;
  directives: Directives;
  escapeToken: "\\" | "`";
  /** ARG instructions before the first FROM. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  warnings: ParseWarning[];
}

/** Parses a Dockerfile; throws LocatedError or AggregateLocatedError. */
export function parseDockerfile(text: string, opts: ParseOptions): Dockerfile {
  const ast = parseAst(text, opts);
  const src = { file: opts.file, text };
  const errors: LocatedError[] = [];
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of ast.nodes) {
    let ins: Instruction;
    try {
      ins = parseInstruction(node);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      errors.push(locatedError(e.code, e.message, src, node.range));
      continue;
    }
    if (ins.kind === "from") {
      stages.push({
        index: stages.length,
        ...(ins.stageName ? { name: ins.stageName } : {}),
        from: ins,
        instructions: [],
        range: { start: ins.range.start, end: ins.range.end },
      });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) {
      if (ins.kind === "arg") metaArgs.push(ins);
      else errors.push(locatedError("parse/no-stage", `${node.keyword.toUpperCase()} before the first FROM: no build stage in current context`, src, node.range));
      continue;
    }
    stage.instructions.push(ins);
    stage.range.end = ins.range.end;
  }
  if (errors.length === 0 && stages.length === 0) {
    const last = ast.nodes[ast.nodes.length - 1]!;
    errors.push(locatedError("parse/no-stage", "the Dockerfile has no FROM instruction", src, last.range));
  }
  throwCollected("parse/errors", errors);
  return {
    file: opts.file,
    text,
    directives: ast.directives,
    escapeToken: ast.directives.escape,
    metaArgs,
    stages,
    warnings: ast.warnings,
  };
}
