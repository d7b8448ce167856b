/**
 * The public library API of tsbuild. The CLI uses only what is exported here.
 */
export { TsbuildError, LocatedError, AggregateLocatedError, UsageError, CancelledError } from "./errors/index.js";
export type { SourceLocation } from "./errors/index.js";
