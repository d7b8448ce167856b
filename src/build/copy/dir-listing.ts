/**
 * Directories of a COPY source, listed for the selection walk: each one's names in byte order
 * and, for each name the walk keeps, a FileEntry from lstat. With the native lister
 * (src/internal/fs-addon.ts) each directory is stat'ed in one call, several on two threads;
 * without it each kept name costs one lstatSync, and excluded names are never stat'ed.
 */
import { constants as fsConstants, lstatSync, readdirSync, readlinkSync } from "node:fs";
import type { BigIntStats } from "node:fs";
import { sortByteOrder } from "../../internal/byte-order.js";
import { LIST_DIR_NUMS, LIST_DIR_TIMES, fsAddon, type DirListingRaw, type FsAddon } from "../../internal/fs-addon.js";
import type { EntryType, FileEntry } from "./types.js";

export interface DirListing {
  /** Every name but `.` and `..`, in byte order. */
  readonly names: readonly string[];
  /** Whether `names[i]` is a directory (not a symlink to one). */
  isDir(i: number): boolean;
  /**
   * The entry for `names[i]`, whose path relative to the source is `rel`; `dirHost` is the
   * listed directory (the entry's host path is only built for what needs it: a symlink's readlink).
   */
  entry(i: number, rel: string, dirHost: string, keepOwnership: boolean): FileEntry;
}

/**
 * Lists each of `dirHosts`; the native lister shares several between two threads. The first
 * failure, in the order given, is thrown. `addon`: the native lister, or undefined for Node's
 * calls (the default is whichever is available).
 */
export function listDirectories(dirHosts: readonly string[], addon: FsAddon | undefined = fsAddon()): DirListing[] {
  if (!addon) return dirHosts.map(listWithNode);
  if (dirHosts.length === 1) return [fromRaw(addon.listDir(dirHosts[0]!))];
  return addon.listDirs(dirHosts.join("\0")).map(fromRaw);
}

function listWithNode(dirHost: string): DirListing {
  // Types from the listing itself (d_type; Node lstats where the file system gives none).
  const dirents = readdirSync(dirHost, { withFileTypes: true });
  const dirs = new Set(dirents.flatMap((d) => (d.isDirectory() ? [d.name] : [])));
  const names = sortByteOrder(dirents.map((d) => d.name));
  return {
    names,
    isDir: (i) => dirs.has(names[i]!),
    entry: (i, rel, _dirHost, keepOwnership) => {
      const hostPath = `${dirHost}/${names[i]}`;
      return entryFrom(rel, hostPath, lstatSync(hostPath, { bigint: true }), keepOwnership);
    },
  };
}

function fromRaw([joined, nums, times]: DirListingRaw): DirListing {
  const names = joined === "" ? [] : joined.split("/");
  return {
    names,
    isDir: (i) => (nums[i * LIST_DIR_NUMS]! & fsConstants.S_IFMT) === fsConstants.S_IFDIR,
    entry(i, rel, dirHost, keepOwnership) {
      const n = i * LIST_DIR_NUMS;
      const t = i * LIST_DIR_TIMES;
      const fullMode = nums[n]!;
      const type = entryType(fullMode);
      const entry: FileEntry = {
        path: rel,
        type,
        mode: fullMode & 0o7777,
        size: nums[n + 3]!,
        uid: keepOwnership ? nums[n + 1]! : 0,
        gid: keepOwnership ? nums[n + 2]! : 0,
        mtimeNs: times[t + 1]!,
        atimeNs: times[t]!,
        ctimeNs: times[t + 2]!,
        fullMode,
        dev: nums[n + 4]!,
        ino: nums[n + 5]!,
        nlink: nums[n + 6]!,
      };
      if (type === "symlink") entry.linkTarget = readlinkSync(`${dirHost}/${names[i]}`);
      return entry;
    },
  };
}

/** A FileEntry from Node's lstat (the selected source itself, `--parents` dirs, the fallback walk). */
export function entryFrom(path: string, hostPath: string, st: BigIntStats, keepOwnership: boolean): FileEntry {
  // The mode as a number once: BigIntStats' isFile()/isDirectory() allocate BigInts on every call.
  const fullMode = Number(st.mode);
  const type = entryType(fullMode);
  const entry: FileEntry = {
    path,
    type,
    mode: fullMode & 0o7777,
    size: Number(st.size),
    uid: keepOwnership ? Number(st.uid) : 0,
    gid: keepOwnership ? Number(st.gid) : 0,
    mtimeNs: st.mtimeNs,
    atimeNs: st.atimeNs,
    ctimeNs: st.ctimeNs,
    fullMode,
    dev: Number(st.dev),
    ino: Number(st.ino),
    nlink: Number(st.nlink),
  };
  if (type === "symlink") entry.linkTarget = readlinkSync(hostPath);
  return entry;
}

function entryType(mode: number): EntryType {
  switch (mode & fsConstants.S_IFMT) {
    case fsConstants.S_IFREG:
      return "file";
    case fsConstants.S_IFDIR:
      return "dir";
    case fsConstants.S_IFLNK:
      return "symlink";
    default:
      return "other";
  }
}
