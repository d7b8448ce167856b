import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { flattenChain } from "./flatten.js";
import type { BuildServices, StepResult } from "./services.js";

/**
 * The merged tree of a result, flattened once per build into the build's scratch space and
 * shared by every COPY --from and RUN --mount from= that reads it. Read-only by contract.
 */
export function flattenedDir(svc: BuildServices, result: StepResult): Promise<string> {
  const key = result.snapshot ?? "scratch";
  let dir = svc.flattened.get(key);
  if (!dir) {
    dir = (async () => {
      const dest = join(svc.tmpDir, "flat", key);
      mkdirSync(dest, { recursive: true });
      if (result.snapshot) await flattenChain(await svc.snapshotter.chain(result.snapshot), dest);
      return dest;
    })();
    svc.flattened.set(key, dir);
  }
  return dir;
}
