import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The tsbuild root holds everything tsbuild keeps between builds. Resolved from an explicit
 * option (`--root`), then `TSBUILD_ROOT`, then `$XDG_DATA_HOME/tsbuild`, then
 * `~/.local/share/tsbuild`.
 */
export function resolveRoot(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  if (env.TSBUILD_ROOT) return resolve(env.TSBUILD_ROOT);
  if (env.XDG_DATA_HOME) return join(resolve(env.XDG_DATA_HOME), "tsbuild");
  return join(homedir(), ".local", "share", "tsbuild");
}

/** Where each part lives under the root; one table so modules agree. */
export const ROOT_DIRS = {
  content: "content", // blobs/sha256/<hex>, by the content store
  images: "images", // the local image store (names → manifest descriptors)
  snapshots: "snapshots", // committed and active snapshots
  cache: "cache", // the cache index and the context stat cache
  cacheMounts: "cache-mounts", // RUN --mount=type=cache directories
  tmp: "tmp", // scratch space for in-flight work; safe to delete when no build runs
  locks: "locks",
} as const;
