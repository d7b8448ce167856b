/**
 * The error classes of tsbuild. Every error a user can cause is a TsbuildError with a stable
 * `code` (module/condition); the CLI prints its message without a stack trace and maps it to an
 * exit code. Locations are attached once, where the Dockerfile text is known (parser, planner),
 * and travel with the error.
 */

/** A position in a source file. `line` and `column` are 1-based; column counts UTF-16 units. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

export type ErrorCode = string;

export class TsbuildError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A problem in a Dockerfile (or other user file) at a known place. */
export class LocatedError extends TsbuildError {
  readonly location: SourceLocation;
  /** The offending lines with a caret, ready to print; empty when the text is unknown. */
  readonly frame: string;
  /** The message without the `FILE:LINE:COL:` prefix. */
  readonly detail: string;
  constructor(
    code: ErrorCode,
    detail: string,
    location: SourceLocation,
    options?: { cause?: unknown; sourceText?: string; notes?: string[] },
  ) {
    const notes = options?.notes?.length ? "\n" + options.notes.map((n) => `  note: ${n}`).join("\n") : "";
    super(code, `${formatLocation(location)}: ${detail}${notes}`, options);
    this.location = location;
    this.detail = detail;
    this.frame = options?.sourceText === undefined ? "" : codeFrame(options.sourceText, location);
  }
}

/** Several located errors found in one pass, reported together. */
export class AggregateLocatedError extends TsbuildError {
  readonly errors: LocatedError[];
  constructor(code: ErrorCode, errors: LocatedError[]) {
    super(code, errors.map((e) => e.message).join("\n"));
    this.errors = errors;
  }
}

/** Bad command-line usage or bad library options: exit code 2. */
export class UsageError extends TsbuildError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("usage", message, options);
  }
}

/** The build was cancelled (SIGINT or an AbortSignal): exit code 130. */
export class CancelledError extends TsbuildError {
  constructor(message = "build cancelled", options?: { cause?: unknown }) {
    super("cancelled", message, options);
  }
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/**
 * Renders the lines of `text` around `loc` with line numbers and a caret under the column,
 * in the style of esbuild and BuildKit's error frames.
 */
export function codeFrame(text: string, loc: SourceLocation, context = 2): string {
  const lines = text.split(/\r?\n/);
  const endLine = Math.max(loc.line, loc.endLine ?? loc.line);
  const first = Math.max(1, loc.line - context);
  const last = Math.min(lines.length, endLine + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marker = n >= loc.line && n <= endLine ? ">" : " ";
    out.push(`${marker} ${String(n).padStart(width)} | ${lines[n - 1] ?? ""}`);
    if (n === loc.line) {
      const lineText = lines[n - 1] ?? "";
      const col = Math.max(1, Math.min(loc.column, lineText.length + 1));
      const prefix = lineText.slice(0, col - 1).replace(/[^\t]/g, " ");
      const span =
        loc.endLine === undefined || loc.endLine === loc.line
          ? Math.max(1, (loc.endColumn ?? col + 1) - col)
          : Math.max(1, lineText.length - col + 1);
      out.push(`  ${" ".repeat(width)} | ${prefix}${"^".repeat(span)}`);
    }
  }
  return out.join("\n");
}

/**
 * A build step failed at run time (a RUN that exited non-zero, a COPY source that is missing):
 * carries the Dockerfile location of the instruction, and for RUN the command, how it ended and
 * the last lines it printed, so the CLI can show BuildKit's error block.
 */
export class StepError extends TsbuildError {
  readonly location: SourceLocation | undefined;
  readonly step: string;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly logTail: string[];
  constructor(
    code: ErrorCode,
    message: string,
    details: { location?: SourceLocation; step: string; exitCode?: number; signal?: string; logTail?: string[]; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause });
    this.location = details.location;
    this.step = details.step;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.logTail = details.logTail ?? [];
  }
}
