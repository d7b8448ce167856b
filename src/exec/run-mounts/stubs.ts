/**
 * Mount-point stubs. To mount at a target that does not exist, the sandbox creates an empty file
 * or directory there (and any missing parents); they land in the RUN's upper dir and would end
 * up in the layer. Like BuildKit's executor (MountStubsCleaner), record before the RUN which
 * paths are missing, and afterwards remove those that are still empty, keeping the parent's times.
 */
import { lstatSync, readdirSync, rmdirSync, unlinkSync, utimesSync } from "node:fs";
import { dirname, join, posix } from "node:path";

/**
 * Paths the sandbox helper itself mounts over in every RUN (native/helper.c): pass them with the
 * RUN's mount targets so their stubs do not end up in layers of images that lack them.
 */
export const SANDBOX_MOUNT_POINTS: readonly string[] = ["/dev", "/proc", "/sys", "/etc/hosts", "/etc/resolv.conf"];

/**
 * The container paths among `targets` and their ancestors that do not exist in the stack of
 * layer dirs `layers` (newest first: the upper dir, then the lower layers; or just the full tree
 * of a copy snapshot). Whiteouts hide lower entries; opaque markers are not read.
 */
export function mountStubPaths(layers: string[], targets: string[], cache?: LayerLookups): string[] {
  const missing = new Set<string>();
  for (const target of targets) {
    const parts = posix.normalize("/" + target).split("/").filter(Boolean);
    let below = false; // an ancestor is missing, so this path is too
    for (let i = 1; i <= parts.length; i++) {
      const path = "/" + parts.slice(0, i).join("/");
      below ||= !existsInStack(layers, path, cache);
      if (below) missing.add(path);
    }
  }
  return [...missing];
}

/**
 * What one layer dir has at a path: nothing (look further down), an entry, or something that
 * hides the lower layers (a whiteout, or a file where a parent directory should be). Keyed by
 * `layer + "\0" + path`; only for layers that never change (committed snapshots), so a build
 * does not lstat every lower layer again at every RUN.
 */
export type LayerLookups = Map<string, "absent" | "present" | "hidden">;

function existsInStack(layers: string[], path: string, cache?: LayerLookups): boolean {
  for (const layer of layers) {
    const key = layer + "\0" + path;
    let found = cache?.get(key);
    if (found === undefined) {
      found = lookupInLayer(layer, path);
      cache?.set(key, found);
    }
    if (found !== "absent") return found === "present";
  }
  return false;
}

function lookupInLayer(layer: string, path: string): "absent" | "present" | "hidden" {
  let st;
  try {
    st = lstatSync(join(layer, path), { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return "hidden"; // a file hides the rest
    throw err;
  }
  if (!st) return "absent";
  return st.isCharacterDevice() && st.rdev === 0 ? "hidden" : "present";
}

/**
 * Removes from `upperDir` the `stubPaths` (container paths) that are empty files or empty
 * directories, deepest first, restoring each parent's atime/mtime. Returns the removed paths.
 */
export function cleanupMountStubs(upperDir: string, stubPaths: string[]): string[] {
  const removed: string[] = [];
  const byDepth = [...stubPaths].sort((a, b) => b.split("/").length - a.split("/").length || b.localeCompare(a));
  for (const path of byDepth) {
    const host = join(upperDir, posix.normalize("/" + path));
    if (host === upperDir) continue;
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (!st) continue;
    const empty = st.isDirectory() ? readdirSync(host).length === 0 : st.isFile() && st.size === 0;
    if (!empty) continue;
    const parent = lstatSync(dirname(host));
    if (st.isDirectory()) rmdirSync(host);
    else unlinkSync(host);
    utimesSync(dirname(host), parent.atime, parent.mtime);
    removed.push(path);
  }
  return removed;
}
