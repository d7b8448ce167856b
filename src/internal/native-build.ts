import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A file built by scripts/build-native.mjs: `<package root>/native/build/<name>`, found by walking
 * up from this module (it sits at src/internal/, dist/src/internal/, or in the dist/ bundle).
 * Undefined when it was not built.
 */
export function nativeBuildFile(name: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "native", "build", name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}
