/**
 * Mount data for snapshots. Overlay layer paths are relative ("<id>/fs") and the mount carries
 * `cwd` = the snapshots dir, so a lowerdir of a few hundred layers fits the kernel's page-sized
 * option limit (containerd does the same chdir trick).
 */
import { release } from "node:os";
import { join } from "node:path";
import type { Mount } from "../types.js";

/**
 * Overlay's `volatile` (Linux >= 5.10): no sync of the upper filesystem when the RUN's overlay is
 * unmounted, and fsync inside the RUN is a no-op. Without it every RUN ends with a syncfs of the
 * filesystem holding the snapshots (2 ms median per step of many-steps here, more on a busy
 * disk). Nothing else in a commit is fsynced either: a host crash can lose recent snapshots
 * anyway. A volatile workdir cannot be mounted again, but each active snapshot is mounted once.
 */
const VOLATILE = kernelAtLeast(5, 10);

function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release());
  return m !== null && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}

/** Layer path of `id` relative to the snapshots dir. */
export function layerPath(id: string): string {
  return `${id}/fs`;
}

/**
 * The writable root of an overlay snapshot over `ancestors` (ids, oldest first). `bottom`, a
 * layer path relative to the snapshots dir, goes under all of them (see stub-layer.ts).
 */
export function overlayRootMount(snapshotsDir: string, id: string, ancestors: string[], bottom?: string): Mount {
  if (ancestors.length === 0) {
    return { type: "bind", source: join(snapshotsDir, layerPath(id)), target: "/", options: ["rbind", "rw"] };
  }
  const lower = lowerdirOption(ancestors) + (bottom === undefined ? "" : `:${bottom}`);
  return {
    type: "overlay",
    source: "overlay",
    target: "/",
    options: [lower, `upperdir=${layerPath(id)}`, `workdir=${id}/work`, ...(VOLATILE ? ["volatile"] : [])],
    cwd: snapshotsDir,
  };
}

/** A read-only root over the layers `ids` (oldest first). */
export function overlayViewMount(snapshotsDir: string, ids: string[]): Mount {
  const last = ids[ids.length - 1];
  if (ids.length === 1 && last !== undefined) {
    return { type: "bind", source: join(snapshotsDir, layerPath(last)), target: "/", options: ["rbind", "ro"] };
  }
  // Overlay with only lower layers is read-only by construction; it needs at least two.
  return { type: "overlay", source: "overlay", target: "/", options: [lowerdirOption(ids), "ro"], cwd: snapshotsDir };
}

/** Copy driver: every snapshot is a full tree, mounted by bind. */
export function copyRootMount(snapshotsDir: string, id: string, readonly: boolean): Mount {
  return {
    type: "bind",
    source: join(snapshotsDir, layerPath(id)),
    target: "/",
    options: ["rbind", readonly ? "ro" : "rw"],
  };
}

/** `lowerdir=` with the newest layer first, as overlayfs expects. */
function lowerdirOption(idsOldestFirst: string[]): string {
  return "lowerdir=" + [...idsOldestFirst].reverse().map(layerPath).join(":");
}
