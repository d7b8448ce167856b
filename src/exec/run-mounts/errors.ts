import { TsbuildError } from "../../errors/index.js";

/** A RUN --mount that cannot be set up: `run-mount/<condition>`. */
export class RunMountError extends TsbuildError {
  constructor(condition: "secret-missing" | "ssh-missing" | "source-missing" | "invalid", message: string) {
    super(`run-mount/${condition}`, message);
  }
}
