import { accessSync, constants } from "node:fs";
import { nativeBuildPath } from "../internal/native-build.js";
import { HelperError } from "./errors.js";

/** Name of the built helper under `<package root>/native/build/`. */
export const HELPER_BINARY = "tsbuild-helper";

/**
 * Finds the sandbox helper: an explicit path, then `TSBUILD_HELPER_PATH`, then
 * `<package root>/native/build/tsbuild-helper`. Throws HelperError `exec/helper-missing` when
 * the file is absent or not executable.
 */
export function findHelper(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform !== "linux") {
    throw new HelperError("exec/helper-missing", `RUN needs Linux namespaces; ${process.platform} is not supported`);
  }
  const path = explicit ?? env.TSBUILD_HELPER_PATH ?? nativeBuildPath(HELPER_BINARY);
  if (path === undefined) throw new HelperError("exec/helper-missing", "cannot find the tsbuild package root to locate the sandbox helper");
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
