import { linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, chmodSync, lchownSync, type Stats } from "node:fs";
import { join } from "node:path";
import { findOpaqueDirs } from "../exec/snapshot/xattr.js";

/**
 * Materialises the merged tree of a layer chain (oldest first, overlay format) into `dest`
 * without mounting: files are hard links into the immutable layer directories (no data is
 * copied), whiteouts delete, opaque directories hide what lies below. Used as the source of
 * `COPY --from` and of `RUN --mount=from=`; the result must be treated as read-only.
 */
export async function flattenChain(layers: string[], dest: string): Promise<void> {
  mkdirSync(dest, { recursive: true });
  for (const layer of layers) {
    const opaque = await findOpaqueDirs(layer);
    overlayDir(layer, dest, "", opaque);
  }
}

function overlayDir(layer: string, dest: string, rel: string, opaque: Set<string>): void {
  for (const name of readdirSync(join(layer, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const src = join(layer, r);
    const dst = join(dest, r);
    const st = lstatSync(src);
    if (st.isCharacterDevice() && st.rdev === 0) {
      rmSync(dst, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      const existing = safeLstat(dst);
      if (existing && (!existing.isDirectory() || opaque.has(r))) rmSync(dst, { recursive: true, force: true });
      if (!existing || !existing.isDirectory() || opaque.has(r)) mkdirSync(dst);
      chmodSync(dst, st.mode & 0o7777);
      lchownSync(dst, st.uid, st.gid);
      overlayDir(layer, dest, r, opaque);
      continue;
    }
    if (safeLstat(dst)) rmSync(dst, { recursive: true, force: true });
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dst);
      lchownSync(dst, st.uid, st.gid);
    } else linkSync(src, dst);
  }
}

function safeLstat(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
