import { TsbuildError } from "../../errors/index.js";

/**
 * A COPY/ADD problem the user caused. Codes: `copy/not-found` (a source path is missing),
 * `copy/outside-context` (a source escapes the source root with `..`), `copy/bad-destination`
 * (e.g. several sources into a non-directory), `copy/bad-chmod`, `copy/unknown-user`,
 * `copy/unknown-group`, `copy/checksum-mismatch`, `copy/fetch-failed`, `copy/bad-archive`.
 */
export class CopyError extends TsbuildError {}
