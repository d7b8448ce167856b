/** What a build checks and tidies before it starts: privileges, and what killed builds left behind. */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../errors/index.js";
import { ROOT_DIRS } from "../internal/root.js";
import type { BuildServices } from "./services.js";

/**
 * Unpacking layers and committing snapshots keep every file's owner, and the sandbox needs to
 * mount: as an unprivileged user that takes a user namespace with a full subordinate id range
 * (newuidmap), which tsbuild does not set up yet. Say so instead of failing on the first lchown.
 */
export function requireRoot(): void {
  if (process.getuid?.() === 0) return;
  throw new TsbuildError(
    "build/needs-root",
    "tsbuild builds need root: image layers keep their files' owners and RUN needs mount namespaces. " +
      "Rootless builds (a user namespace with subordinate uids/gids from /etc/subuid via newuidmap) are not supported yet; " +
      "run the build as root (e.g. sudo tsbuild build …). `tsbuild plan`, `images`, `load`, `save` and `push` work unprivileged.",
  );
}

/**
 * Removes scratch dirs of builds whose process is gone (killed builds cannot clean up after
 * themselves); returns those processes' pids.
 */
export function sweepStaleScratch(tmpRoot: string): Set<number> {
  const dead = new Set<number>();
  for (const name of readdirSync(tmpRoot)) {
    const pid = Number(/^build-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    dead.add(pid);
    rmSync(join(tmpRoot, name), { recursive: true, force: true });
  }
  return dead;
}

/**
 * Active RUN snapshots (`run-<pid>-…`) a killed build left: never committed, so never cached;
 * and its unused snapshot scratch dirs (`.tmp-<pid>-…`, made ahead of the next RUN).
 */
export async function removeOrphanedRuns(root: string, snapshotter: BuildServices["snapshotter"], dead: Set<number>): Promise<void> {
  const snapshotsDir = join(root, ROOT_DIRS.snapshots);
  for (const name of readdirSync(snapshotsDir)) {
    const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
    if (pid && dead.has(pid)) rmSync(join(snapshotsDir, name), { recursive: true, force: true });
  }
  const indexDir = join(snapshotsDir, "index");
  for (const file of readdirSync(indexDir)) {
    let name: string;
    try {
      name = (JSON.parse(readFileSync(join(indexDir, file), "utf8")) as { name: string }).name;
    } catch {
      continue;
    }
    const pid = Number(/^run-(\d+)-/.exec(name)?.[1]);
    if (pid && dead.has(pid) && (await snapshotter.stat(name))?.kind === "active") await snapshotter.remove(name).catch(() => {});
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
