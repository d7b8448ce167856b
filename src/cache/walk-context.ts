import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * One entry of a build context, with the lstat fields the checksum and the stat cache need. The
 * selection's FileEntry (src/build/copy/types.ts) has every one of them: a COPY from the context
 * root checksums its selection's own objects.
 */
export interface ContextEntry {
  /** Path relative to the context root, `/`-separated, no leading `./`. */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  /** Permission and special bits (`st_mode & 0o7777`). */
  mode: number;
  /** The full st_mode (type bits too): what the stat cache compares. */
  fullMode: number;
  size: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Inode number (exact: below 2^53 on every Linux file system in use). */
  ino: number;
  /** For symlinks: the target as stored in the link. */
  linkTarget?: string;
}

export interface WalkOptions {
  /** True for paths left out (the caller plugs in the .dockerignore matcher here). */
  isExcluded?: (relPath: string) => boolean;
  /**
   * For an excluded directory: may a re-include pattern (`!dir/keep`) select something below it?
   * When false (the default) the directory is not entered at all.
   */
  mayIncludeBelow?: (dirRelPath: string) => boolean;
}

/**
 * Walks a context synchronously (readdirSync + lstatSync: the fastest walk in Node 20, see
 * shared notes §4) and returns every entry not excluded, sorted by path. Symlinks are not
 * followed. An excluded directory that holds re-included entries is listed too, as its parent.
 */
export function walkContext(root: string, options: WalkOptions = {}): ContextEntry[] {
  const out: ContextEntry[] = [];
  walkDir(root, "", options, out);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function walkDir(root: string, rel: string, options: WalkOptions, out: ContextEntry[]): void {
  for (const d of readdirSync(rel ? join(root, rel) : root, { withFileTypes: true })) {
    const path = rel ? `${rel}/${d.name}` : d.name;
    const excluded = options.isExcluded?.(path) ?? false;
    if (d.isDirectory()) {
      if (excluded && !options.mayIncludeBelow?.(path)) continue;
      const before = out.length;
      const entry = statEntry(root, path);
      if (!excluded) out.push(entry);
      walkDir(root, path, options, out);
      if (excluded && out.length > before) out.push(entry);
    } else if (!excluded) {
      out.push(statEntry(root, path));
    }
  }
}

/** lstat of one context path as a ContextEntry. */
export function statEntry(root: string, relPath: string): ContextEntry {
  const abs = join(root, relPath);
  const st = lstatSync(abs, { bigint: true });
  const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  const entry: ContextEntry = {
    path: relPath,
    type,
    mode: Number(st.mode) & 0o7777,
    fullMode: Number(st.mode),
    size: Number(st.size),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: Number(st.ino),
  };
  if (type === "symlink") entry.linkTarget = readlinkSync(abs);
  return entry;
}
