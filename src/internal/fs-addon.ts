/**
 * The native filesystem addon (native/fsaddon.c): a directory's sorted names and their lstat in
 * one call, and read-ahead of files on a thread of its own. Loaded on first use; `undefined`
 * when the addon was not built (no Node headers or compiler at install) or `TSBUILD_NO_FS_ADDON`
 * is set, and callers then use Node's calls (readdirSync and lstatSync; no read-ahead).
 */
import { nativeBuildFile } from "./native-build.js";

/** What listDir returns: see native/fsaddon.c. */
export type DirListingRaw = [names: string, nums: Float64Array, times: BigInt64Array];

export interface FsAddon {
  listDir(path: string): DirListingRaw;
  /** listDir of each of these paths (NUL-separated), shared between two threads; throws the first failure. */
  listDirs(paths: string): DirListingRaw[];
  /** Starts reading these absolute paths (NUL-separated) into the page cache, in the background. */
  prefetch(paths: string): void;
  /**
   * Starts reading whole files (NUL-separated paths) into `data` on up to four threads of the
   * addon's own: file i at the sum of the sizes before it, up to sizes[i] bytes; results[i] is
   * the byte count read or -errno. The arrays are the threads' until readFilesWait(handle).
   */
  readFilesStart(paths: string, sizes: Float64Array, data: Buffer, results: Float64Array): ReadFilesHandle;
  /**
   * Returns once the reads of readFilesStart are done (at once the second time): how many of the
   * files were not whole in the page cache (or were shorter than their size).
   */
  readFilesWait(handle: ReadFilesHandle): number;
  /** sha256 of a string (as UTF-8) or a Buffer, hex, through the OpenSSL Node exports to addons. */
  sha256Hex(data: string | Buffer): string;
  /** Sets FS_TOPDIR_FL (`chattr +T`) on a directory; false where the file system refuses it. */
  markTopDir(path: string): boolean;
  /**
   * A layer's uncompressed diffID (hex) and tar size, on a libuv thread (native/layerhash.c);
   * null where only the JavaScript writer applies (with `checkXattrs`: also any entry with an
   * xattr), or once `cancel[0]` is set non-zero. `sourceDateEpoch`: -1 for none.
   */
  hashLayerTar(dir: string, sourceDateEpoch: number, cancel: Int32Array, checkXattrs: boolean): Promise<[diffIdHex: string, size: number] | null>;
}

/** An opaque handle on reads in progress (a napi external). */
export type ReadFilesHandle = { readonly __readFiles: unique symbol };

/** Doubles per entry in `nums`: st_mode, uid, gid, size, dev, ino, nlink, rdev, mtime s, mtime ns. */
export const LIST_DIR_NUMS = 10;
/** BigInts per entry in `times`: atime, mtime, ctime in ns. */
export const LIST_DIR_TIMES = 3;

/** Every function of FsAddon: an addon without one of them is from an older install. */
const ADDON_FUNCTIONS = ["listDir", "listDirs", "prefetch", "readFilesStart", "readFilesWait", "sha256Hex", "markTopDir", "hashLayerTar"] as const satisfies readonly (keyof FsAddon)[];

let loaded: FsAddon | null | undefined;

export function fsAddon(): FsAddon | undefined {
  if (loaded === undefined) loaded = process.env.TSBUILD_NO_FS_ADDON ? null : load();
  return loaded ?? undefined;
}

function load(): FsAddon | null {
  const file = process.platform === "linux" ? nativeBuildFile("tsbuild-fsaddon.node") : undefined;
  if (!file) return null;
  const module = { exports: {} as Partial<FsAddon> };
  try {
    process.dlopen(module, file);
  } catch {
    return null; // built for another Node ABI or libc: the JavaScript path is correct, only slower
  }
  const complete = ADDON_FUNCTIONS.every((name) => typeof module.exports[name] === "function");
  return complete ? (module.exports as FsAddon) : null; // an addon from an older install: rebuilt by npm install
}
