/**
 * The native directory lister (native/dirstat.c): one directory's sorted names and their lstat
 * in one call. Loaded on first use; `undefined` when the addon was not built (no Node headers
 * or compiler at install) or `TSBUILD_NO_DIRSTAT` is set, and callers then use readdirSync and
 * lstatSync.
 */
import { nativeBuildFile } from "./native-build.js";

/** What listDir returns: see native/dirstat.c. */
export type DirStatListing = [names: string, nums: Float64Array, times: BigInt64Array];

export interface DirStatAddon {
  listDir(path: string): DirStatListing;
}

/** Doubles per entry in `nums`: st_mode, uid, gid, size, dev, ino, nlink. */
export const DIRSTAT_NUMS = 7;
/** BigInts per entry in `times`: atime, mtime, ctime in ns. */
export const DIRSTAT_TIMES = 3;

let loaded: DirStatAddon | null | undefined;

export function dirStatAddon(): DirStatAddon | undefined {
  if (loaded === undefined) loaded = process.env.TSBUILD_NO_DIRSTAT ? null : load();
  return loaded ?? undefined;
}

function load(): DirStatAddon | null {
  const file = process.platform === "linux" ? nativeBuildFile("tsbuild-dirstat.node") : undefined;
  if (!file) return null;
  const module = { exports: {} as Partial<DirStatAddon> };
  try {
    process.dlopen(module, file);
  } catch {
    return null; // built for another Node ABI or libc: the JavaScript path is correct, only slower
  }
  return typeof module.exports.listDir === "function" ? (module.exports as DirStatAddon) : null;
}
