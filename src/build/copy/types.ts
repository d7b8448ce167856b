import type { PatternMatcher } from "../../parser/dockerignore/index.js";
/** Data shared by the COPY/ADD modules: what was selected in the source root, and how to copy it. */

export type EntryType = "file" | "dir" | "symlink" | "other";

/** One filesystem entry under a selected source, with what `lstat` said about it. */
export interface FileEntry {
  /** Slash-separated path relative to the selected source; `""` is the source itself. */
  path: string;
  type: EntryType;
  /** Permission and special bits (`mode & 0o7777`). */
  mode: number;
  size: number;
  /** Owner as the copy will write it (0:0 for build-context sources unless ownership is kept). */
  uid: number;
  gid: number;
  mtimeNs: bigint;
  atimeNs: bigint;
  /** Change time and the full st_mode (type bits too): what the cache's stat cache compares. */
  ctimeNs: bigint;
  fullMode: number;
  /** Symlink target, for `symlink` entries. */
  linkTarget?: string;
  /** Device and inode, to keep hard links together; `nlink` > 1 when the file has several names. */
  dev: number;
  ino: number;
  nlink: number;
}

/** One top-level source of a COPY/ADD after wildcard expansion and symlink resolution. */
export interface SelectedSource {
  /** The source argument as written in the instruction. */
  source: string;
  /** Path of the selected entry relative to the source root, slash-separated, after following symlinks. */
  path: string;
  /** Absolute host path of the selected entry. */
  hostPath: string;
  /** The name used when copying into a directory: the base name of the path as written or matched. */
  name: string;
  /** The entry itself and everything under it (minus excluded paths), parents before children. */
  files: FileEntry[];
  /**
   * With `--parents`: the path kept below the destination, the host dir it is relative to, and
   * the source directories between them (their `path` is relative to that base), outermost first.
   */
  parents?: { path: string; baseHostPath: string; dirs: FileEntry[] };
}

export interface SelectOptions {
  /**
   * The build context's `.dockerignore`, matched against paths relative to the source root:
   * ignored files are not part of the context, and ignored directories are not even walked.
   */
  ignore?: PatternMatcher;
  /** `--exclude` patterns (dockerignore syntax), matched against paths below each source. */
  exclude?: readonly string[];
  /** `--parents`: keep the source path (below a `/./` pivot, or from the root) at the destination. */
  parents?: boolean;
  /** Keep the owners found on disk (`COPY --from`); otherwise entries are owned by 0:0, as the context is. */
  keepOwnership?: boolean;
  /** A wildcard matching nothing is fine, as in BuildKit (default true); false makes it an error. */
  allowEmptyWildcard?: boolean;
}

export interface CopyOptions {
  /** The destination as written (already expanded); relative to `workdir` unless absolute. */
  dest: string;
  /** The stage's WORKDIR, absolute inside the destination root. */
  workdir: string;
  /** `--chown`, already resolved to numbers (see resolveChown). */
  chown?: { uid: number; gid: number };
  /** `--chmod`: octal (`755`) or symbolic (`u+x,g-w`). */
  chmod?: string;
  /** `--parents` (the selection must have been made with `parents` too). */
  parents?: boolean;
  /** ADD: extract local tar archives instead of copying them. */
  isAdd?: boolean;
  /**
   * Incremental rebuilds: for a regular file about to be copied from `srcHostPath` to
   * `destRelPath` (relative to the destination root), the host path of a file with the same
   * content in an earlier, immutable result of the same step. It is hard-linked instead of copied
   * when its owner, mode and times also equal what the copy would write (the link is then
   * indistinguishable from a fresh copy, and nothing of the earlier result changes).
   */
  reuse?: (srcHostPath: string, destRelPath: string) => string | undefined;
  /**
   * Called with the BLAKE3 digest (hex) of the bytes copied into each newly created regular
   * file, keyed by its source host path: the content digest the context checksum would read
   * the file again for. Files copied another way (in the way of something, hard links) are not
   * reported.
   */
  onContentDigest?: (srcHostPath: string, digestHex: string) => void;
}
