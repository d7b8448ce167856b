import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | null | undefined;

/**
 * The package root: the nearest ancestor of this module with tsbuild's package.json (this module
 * sits at src/internal/, dist/src/internal/, or in the dist/ bundle). Undefined if there is none.
 */
export function packageRoot(): string | undefined {
  if (root === undefined) root = findPackageRoot();
  return root ?? undefined;
}

function findPackageRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "tsbuild") return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Where scripts/build-native.mjs puts `name`: `<package root>/native/build/<name>`. */
export function nativeBuildPath(name: string): string | undefined {
  const top = packageRoot();
  return top === undefined ? undefined : join(top, "native", "build", name);
}

/** nativeBuildPath of `name` if that file was built, else undefined. */
export function nativeBuildFile(name: string): string | undefined {
  const path = nativeBuildPath(name);
  return path !== undefined && existsSync(path) ? path : undefined;
}

/** tsbuild-fsutil (native/fsutil.c): `TSBUILD_FSUTIL_PATH`, else the built one, else undefined. */
export function findFsutil(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.TSBUILD_FSUTIL_PATH || nativeBuildFile("tsbuild-fsutil");
}
