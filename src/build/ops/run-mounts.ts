/** Turns a RUN's `--mount` plans into sandbox mounts (glue over src/exec/run-mounts). */
import { TsbuildError } from "../../errors/index.js";
import type { Mount } from "../../exec/types.js";
import type { BuildServices, StepResult } from "../services.js";
import type { RunStep } from "../steps.js";

export interface PreparedRunMounts {
  mounts: Mount[];
  /** Extra `NAME=value` entries (secrets exposed with env=). */
  env: string[];
  /** Removes files and directories the sandbox created only as mount points. */
  cleanupStubs(upperDir: string): Promise<void>;
  release(): Promise<void>;
}

export async function prepareRunMounts(step: RunStep, _mountResults: StepResult[], _svc: BuildServices): Promise<PreparedRunMounts> {
  if (step.mounts.length > 0) throw new TsbuildError("build/mounts-unsupported", `${step.name}: RUN --mount is not wired into builds yet`);
  return { mounts: [], env: [], cleanupStubs: async () => {}, release: async () => {} };
}
