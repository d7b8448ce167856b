import { TsbuildError } from "../../errors/index.js";

/** Classes of snapshot failures, containerd-style; callers branch on `code`, never on text. */
export type SnapshotErrorClass = "not-found" | "already-exists" | "invalid-argument" | "failed-precondition";

export class SnapshotError extends TsbuildError {
  readonly errorClass: SnapshotErrorClass;
  constructor(errorClass: SnapshotErrorClass, message: string, options?: { cause?: unknown }) {
    super(`snapshot/${errorClass}`, message, options);
    this.errorClass = errorClass;
  }
}
