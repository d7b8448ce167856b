/**
 * BuildKit's failure block for a failed step: the step's last output between `------` rulers,
 * the Dockerfile location with the failing lines marked `>>>`, then the one-line
 * `ERROR: failed to solve: …` that CI logs are grepped for.
 */
import { SolveError, StepError, type SourceLocation } from "../index.js";

const RULER = "-".repeat(20);

/** The StepError inside a solver failure, if the failure was a step's. */
export function stepErrorOf(err: unknown): StepError | undefined {
  if (err instanceof StepError) return err;
  if (err instanceof SolveError && err.cause instanceof StepError) return err.cause;
  return undefined;
}

/**
 * ` NNN | >>> text` lines: 2 lines of context each side of a one-line range, 1 for a longer one,
 * as BuildKit prints them.
 */
export function sourceFrame(text: string, loc: SourceLocation): string {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const end = Math.max(loc.line, loc.endLine ?? loc.line);
  const context = end > loc.line ? 1 : 2;
  const first = Math.max(1, loc.line - context);
  const last = Math.min(lines.length, end + context);
  const out = [`${loc.file}:${loc.line}${end > loc.line ? `-${end}` : ""}`, RULER];
  for (let n = first; n <= last; n++) {
    const mark = n >= loc.line && n <= end ? ">>>" : "   ";
    out.push(` ${String(n).padStart(3)} | ${mark} ${lines[n - 1] ?? ""}`.trimEnd());
  }
  out.push(RULER);
  return out.join("\n");
}

export interface FailureReport {
  /** The whole block, ending with a newline. */
  text: string;
  location?: SourceLocation;
  /** The one-line message after `ERROR: `. */
  message: string;
}

/**
 * Renders a build failure. `dockerfileText` gives the code frame; `fullLogPath` is named when
 * the step printed more than the tail shown here.
 */
export function formatFailure(err: unknown, dockerfileText: string | undefined, fullLogPath?: string): FailureReport {
  const step = stepErrorOf(err);
  const message = `failed to solve: ${(step ?? (err as Error)).message}`;
  const parts: string[] = [];
  if (step) {
    parts.push("------", ` > ${step.step}:`);
    for (const l of step.logTail) parts.push(l);
    parts.push("------");
    if (fullLogPath && step.logTail.length) parts.push(`(the last ${step.logTail.length} lines; the full output is in ${fullLogPath})`);
    if (step.location && dockerfileText !== undefined) parts.push(sourceFrame(dockerfileText, step.location));
    else if (step.location) parts.push(`${step.location.file}:${step.location.line}`);
  }
  parts.push(`ERROR: ${message}`);
  return { text: parts.join("\n") + "\n", message, ...(step?.location ? { location: step.location } : {}) };
}
