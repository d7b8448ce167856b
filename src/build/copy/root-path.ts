/**
 * Resolving a path inside a root directory the way a chroot would (containerd continuity's
 * `RootPath`): symlinks are followed, absolute link targets start at the root, and `..` never
 * climbs above it. Missing components are kept as written.
 */
import { lstat, readlink } from "./fs-sync.js";
import { join } from "node:path";

const MAX_LINKS = 255;

/**
 * The host path of `path` (slash-separated, absolute or relative to the root) inside `root`.
 * With `followLast` false the last component is not resolved when it is a symlink.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const done: string[] = [];
  let pending = splitPath(path);
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, part);
    if (pending.length === 0 && !followLast) {
      done.push(part);
      break;
    }
    let target: string | undefined;
    try {
      const st = await lstat(candidate);
      if (st.isSymbolicLink()) target = await readlink(candidate);
    } catch (err) {
      if (!isMissing(err)) throw err;
      // The rest does not exist: resolve it lexically, still clamped at the root.
      for (const rest of [part, ...pending]) {
        if (rest === "..") done.pop();
        else done.push(rest);
      }
      break;
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many links resolving ${path}`);
    if (target.startsWith("/")) done.length = 0;
    pending = [...splitPath(target), ...pending];
  }
  return join(root, ...done);
}

/** Components without empty and `.` ones; `..` is kept (relative link targets climb from the link). */
function splitPath(p: string): string[] {
  return p.split("/").filter((s) => s !== "" && s !== ".");
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
