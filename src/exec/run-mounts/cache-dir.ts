/**
 * Directories of `RUN --mount=type=cache`, kept across builds under
 * `<root>/cache-mounts/<sha256(id)>/`: `data` is the shared directory, `private-<n>` are extra
 * directories for `sharing=private` users that find `data` busy, `id` records the cache id.
 * Locks live in `<root>/locks/cache-<hash>[-<n>].lock`.
 */
import { sha256Hex } from "../../internal/digest.js";
import { randomHex } from "../../internal/random-hex.js";
import { chmodSync, chownSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ROOT_DIRS } from "../../internal/root.js";
import { copyTree } from "../snapshot/tree-copy.js";
import { lockFile, type FileLock } from "./flock.js";
import { sourcePath } from "./source-path.js";
import type { RunMountSpec } from "./types.js";

export interface CacheDir {
  dir: string;
  release(): Promise<void>;
}

/**
 * The directory for cache mount `spec`: shared (no lock), locked (waits for an exclusive lock,
 * across processes), or private (the first free one of data, private-1, private-2, …).
 */
export async function acquireCacheDir(root: string, spec: RunMountSpec, signal?: AbortSignal): Promise<CacheDir> {
  const id = spec.id ?? spec.target ?? "";
  const hash = sha256Hex(id).slice(0, 32);
  const base = join(root, ROOT_DIRS.cacheMounts, hash);
  const lockPath = (n: number) => join(root, ROOT_DIRS.locks, `cache-${hash}${n === 0 ? "" : `-${n}`}.lock`);
  const dirPath = (n: number) => join(base, n === 0 ? "data" : `private-${n}`);
  mkdirSync(base, { recursive: true });
  if (!existsSync(join(base, "id"))) writeFileSync(join(base, "id"), id);
  const sharing = spec.sharing ?? "shared";
  let n = 0;
  let lock: FileLock | undefined;
  if (sharing === "locked") lock = await lockFile(lockPath(0), { wait: true, ...(signal ? { signal } : {}) });
  if (sharing === "private") {
    while (!(lock = await lockFile(lockPath(n), { wait: false }))) n++;
  }
  try {
    await ensureDir(dirPath(n), base, spec);
  } catch (err) {
    await lock?.release();
    throw err;
  }
  return { dir: dirPath(n), release: async () => void (await lock?.release()) };
}

/** Creates `dir` once, seeded from `fromDir`/`source` and owned as asked; racing creators are fine. */
async function ensureDir(dir: string, base: string, spec: RunMountSpec): Promise<void> {
  if (existsSync(dir)) return;
  const tmp = join(base, `.tmp-${process.pid}-${randomHex(4)}`);
  mkdirSync(tmp);
  try {
    if (spec.fromDir !== undefined) await copyTree(sourcePath(spec.fromDir, spec.source), tmp);
    chmodSync(tmp, spec.mode ?? 0o755);
    chownSync(tmp, spec.uid ?? 0, spec.gid ?? 0);
    renameSync(tmp, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
