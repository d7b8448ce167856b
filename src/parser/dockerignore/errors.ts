import { TsbuildError } from "../../errors/index.js";

/**
 * A `.dockerignore` (or `COPY --exclude`) pattern that cannot be used: bad glob syntax or a lone
 * `!`. Code `dockerignore/bad-pattern`; the message names the pattern and, when known, the file.
 */
export class DockerignorePatternError extends TsbuildError {
  readonly pattern: string;
  readonly file?: string;
  constructor(pattern: string, reason: string, file?: string, options?: { cause?: unknown }) {
    const where = file === undefined ? "" : `${file}: `;
    super("dockerignore/bad-pattern", `${where}invalid pattern ${JSON.stringify(pattern)}: ${reason}`, options);
    this.pattern = pattern;
    if (file !== undefined) this.file = file;
  }
}
