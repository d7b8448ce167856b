import { TsbuildError } from "../errors/index.js";

/**
 * A RUN could not start or the sandbox could not be set up. `code` is one of
 * `exec/helper-missing`, `exec/helper-protocol`, `exec/helper-setup` (with `errno`),
 * `exec/rootless-unsupported`, `exec/command-not-found`, `exec/command-failed`,
 * `exec/user-not-found`, `exec/group-not-found`. A command that starts and then fails is not an
 * error here: it is an ExitResult.
 */
export class HelperError extends TsbuildError {
  /** The errno of the failing system call when there was one, else 0. */
  readonly errno: number;
  constructor(code: string, message: string, options?: { cause?: unknown; errno?: number }) {
    super(code, message, options);
    this.errno = options?.errno ?? 0;
  }
}
