import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HelperError } from "./errors.js";

/** Name of the built helper under `<package root>/native/build/`. */
export const HELPER_BINARY = "tsbuild-helper";

/** The package root: the nearest ancestor of this file with tsbuild's package.json (src/ or dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "tsbuild") return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new HelperError("exec/helper-missing", "cannot find the tsbuild package root to locate the sandbox helper");
    dir = up;
  }
}

/**
 * Finds the sandbox helper: an explicit path, then `TSBUILD_HELPER_PATH`, then
 * `<package root>/native/build/tsbuild-helper`. Throws HelperError `exec/helper-missing` when
 * the file is absent or not executable.
 */
export function findHelper(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform !== "linux") {
    throw new HelperError("exec/helper-missing", `RUN needs Linux namespaces; ${process.platform} is not supported`);
  }
  const path = explicit ?? env.TSBUILD_HELPER_PATH ?? join(packageRoot(), "native", "build", HELPER_BINARY);
  try {
    accessSync(path, constants.X_OK);
  } catch (cause) {
    throw new HelperError(
      "exec/helper-missing",
      `the sandbox helper is not built: run npm install (needs a C compiler) [looked for ${path}]`,
      { cause },
    );
  }
  return path;
}
