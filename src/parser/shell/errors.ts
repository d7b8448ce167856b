import { TsbuildError } from "../../errors/index.js";

/**
 * Why a shell-word expansion failed. Codes:
 * - `shell/syntax`: unterminated quote or `${`, `${}`, `${:…}` (BuildKit: "bad substitution", "missing '}'")
 * - `shell/unsupported-modifier`: `${V=w}`, `${V:#…}`, `${V:YYY}` …
 * - `shell/required-variable`: `${V?msg}` / `${V:?msg}` on an unset (or empty) variable
 * - `shell/bad-pattern`: an invalid `#`, `%` or `/` pattern (e.g. `\a` escape)
 */
export type ShellErrorCode =
  | "shell/syntax"
  | "shell/unsupported-modifier"
  | "shell/required-variable"
  | "shell/bad-pattern";

/** A word could not be expanded. `message` follows BuildKit: `failed to process "<word>": <reason>`. */
export class ShellExpansionError extends TsbuildError {
  /** The reason without the `failed to process` prefix. */
  readonly reason: string;
  /** The word being expanded when the error happened. */
  readonly word: string;
  constructor(code: ShellErrorCode, reason: string, word: string) {
    super(code, `failed to process ${JSON.stringify(word)}: ${reason}`);
    this.reason = reason;
    this.word = word;
  }
}

/** Internal: raised while scanning, before the whole word is known. */
export class ShellScanError extends Error {
  readonly code: ShellErrorCode;
  constructor(code: ShellErrorCode, reason: string) {
    super(reason);
    this.code = code;
  }
}
