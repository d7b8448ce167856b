/**
 * Maps one file of an overlay upper dir to the tar entries of a layer, following containerd's
 * archive writer: whiteout devices become `.wh.<name>`, opaque directories get a `.wh..wh..opq`
 * entry, repeated inodes become hardlinks, and metadata is normalised (no uname/gname, no
 * atime/ctime, mtime clamped to SOURCE_DATE_EPOCH).
 */
import { readlinkSync } from "node:fs";
import type { TarHeader } from "./tar-format.js";
import type { WalkEntry, WalkStat } from "./walk.js";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";
export const OPAQUE_XATTRS = ["trusted.overlay.opaque", "user.overlay.opaque"];
/** The only xattr containerd and BuildKit carry into layers. */
export const LAYER_XATTRS = ["security.capability"];

export interface EntryContext {
  sourceDateEpoch: number | undefined;
  /** xattrs by relative path ("." for the root), from one fsutil walk. */
  xattrs: Map<string, Map<string, Buffer>>;
  /** First path seen for each "dev:ino" of multiply linked files. */
  inodes: Map<string, string>;
}

/** A planned entry: the header, and for regular files the path to read the content from. */
export interface PlannedEntry {
  header: TarHeader;
  contentPath?: string;
}

export function isWhiteoutDevice(st: WalkStat): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Shared by every entry without a kept xattr (nearly all): never written to. */
const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();

export function planEntries(e: WalkEntry, ctx: EntryContext): PlannedEntry[] {
  const st = e.stat;
  const mtime = clampMtime(Math.floor(st.mtimeMs / 1000), ctx.sourceDateEpoch);
  const base = {
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: 0,
    mtime,
    linkname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: NO_XATTRS,
  };
  if (isWhiteoutDevice(st)) {
    const slash = e.rel.lastIndexOf("/");
    const name = e.rel.slice(0, slash + 1) + WHITEOUT_PREFIX + e.rel.slice(slash + 1);
    return [{ header: { ...base, name, type: "file", mode: 0, uid: 0, gid: 0 } }];
  }
  const attrs = ctx.xattrs.get(e.rel);
  let kept: Map<string, Buffer> | undefined;
  for (const n of LAYER_XATTRS) {
    const v = attrs?.get(n);
    if (v) (kept ??= new Map()).set(n, v);
  }
  if (kept) base.xattrs = kept;
  if (st.isDirectory()) {
    const out: PlannedEntry[] = [{ header: { ...base, name: e.rel + "/", type: "dir" } }];
    if (OPAQUE_XATTRS.some((n) => attrs?.get(n)?.toString() === "y")) {
      const opq = { ...base, mode: 0, uid: 0, gid: 0, xattrs: NO_XATTRS };
      out.push({ header: { ...opq, name: `${e.rel}/${OPAQUE_WHITEOUT}`, type: "file" } });
    }
    return out;
  }
  if (st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = ctx.inodes.get(key);
    if (first !== undefined) return [{ header: { ...base, name: e.rel, type: "link", linkname: first } }];
    ctx.inodes.set(key, e.rel);
  }
  if (st.isFile()) return [{ header: { ...base, name: e.rel, type: "file", size: st.size }, contentPath: e.abs }];
  if (st.isSymbolicLink()) return [{ header: { ...base, name: e.rel, type: "symlink", linkname: readlinkSync(e.abs) } }];
  if (st.isFIFO()) return [{ header: { ...base, name: e.rel, type: "fifo" } }];
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const type = st.isCharacterDevice() ? "char" : "block";
    return [{ header: { ...base, name: e.rel, type, devmajor: major(st.rdev), devminor: minor(st.rdev) } }];
  }
  return []; // sockets are not carried in layers (as in containerd)
}

export function clampMtime(mtime: number, sourceDateEpoch: number | undefined): number {
  return sourceDateEpoch !== undefined && mtime > sourceDateEpoch ? sourceDateEpoch : mtime;
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor). */
export function major(rdev: number): number {
  const d = BigInt(rdev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}

export function minor(rdev: number): number {
  const d = BigInt(rdev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
}
