/**
 * Applies a layer blob to a directory. With `whiteouts: "overlay"` (the default) the directory
 * becomes an overlay lower/upper dir: `.wh.<name>` turns into a 0/0 character device and
 * `.wh..wh..opq` into the opaque xattr. With `whiteouts: "delete"` the layer is merged into an
 * existing tree (copy-based snapshots): whiteouts delete, opaque directories lose what earlier
 * layers put in them. Every entry is placed through path-safety.ts, so nothing lands outside.
 */
import { createHash } from "../../internal/lazy-node.js";
import { constants, chmodSync, createReadStream, lchownSync, linkSync, lutimesSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { TsbuildError } from "../../errors/index.js";
import type { Digest } from "../../internal/digest.js";
import { decompress } from "./compression.js";
import { FsUtil } from "./fsutil.js";
import { cleanEntryName, lstatOrUndefined, resolveDirInRoot, unsafePath } from "./path-safety.js";
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from "./tar-entry.js";
import type { TarHeader } from "./tar-format.js";
import { readTar, type TarEntry } from "./tar-reader.js";

export interface ApplyLayerOptions {
  /** Checked against the compression found in the blob's first bytes. */
  mediaType?: string;
  whiteouts?: "overlay" | "delete";
  /** The xattr that marks opaque directories in overlay mode (`user` for `userxattr` mounts). */
  opaqueXattr?: "trusted.overlay.opaque" | "user.overlay.opaque";
}

export async function applyLayer(
  blob: NodeJS.ReadableStream | string,
  targetDir: string,
  opts: ApplyLayerOptions = {},
): Promise<{ diffId: Digest }> {
  const input = (typeof blob === "string" ? createReadStream(blob) : blob) as AsyncIterable<Uint8Array>;
  const hash = createHash("sha256");
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of decompress(input, opts.mediaType)) {
      hash.update(chunk);
      yield chunk;
    }
  }
  const root = resolve(targetDir);
  mkdirSync(root, { recursive: true });
  const a = new Applier(root, opts);
  try {
    for await (const entry of readTar(hashed())) await a.apply(entry);
    a.finish();
  } finally {
    await a.close();
  }
  return { diffId: `sha256:${hash.digest("hex")}` };
}

class Applier {
  private fsutil: FsUtil | undefined;
  /** Host paths this layer created, so "delete" mode keeps them when a directory turns opaque. */
  private readonly written = new Set<string>();
  private readonly dirTimes: Array<[string, number]> = [];

  constructor(
    private readonly root: string,
    private readonly opts: ApplyLayerOptions,
  ) {}

  async apply(e: TarEntry): Promise<void> {
    const h = e.header;
    const comps = cleanEntryName(h.name);
    if (comps.length === 0) return; // the root itself keeps its own metadata
    const base = comps[comps.length - 1]!;
    const parent = resolveDirInRoot(this.root, comps.slice(0, -1), { create: true, entry: h.name });
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(parent, base, h.name, h.mtime);
    const path = join(parent, base);
    const existing = lstatOrUndefined(path);
    if (existing && !(h.type === "dir" && existing.isDirectory())) rmSync(path, { recursive: true, force: true });
    this.markWritten(path);
    switch (h.type) {
      case "dir":
        if (!existing?.isDirectory()) mkdirSync(path, { mode: 0o700 });
        this.dirTimes.push([path, h.mtime]);
        break;
      case "file":
        await writeContent(path, e);
        break;
      case "symlink":
        symlinkSync(h.linkname, path);
        break;
      case "link":
        linkSync(this.linkTarget(h), path);
        return; // a hardlink shares the target's inode and metadata
      case "char":
      case "block":
      case "fifo": {
        const type = h.type === "char" ? constants.S_IFCHR : h.type === "block" ? constants.S_IFBLK : constants.S_IFIFO;
        await this.helper().mknod(path, type | (h.mode & 0o777), h.devmajor, h.devminor);
        break;
      }
    }
    await this.setMetadata(path, h);
  }

  /** Runs after every entry: directory times last, deepest first, since entries inside change them. */
  finish(): void {
    for (const [path, mtime] of this.dirTimes.reverse()) {
      try {
        lutimesSync(path, mtime, mtime);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // removed by a later whiteout
      }
    }
  }

  /** Deletes what earlier layers left under an opaque `dir`, keeping this layer's entries. */
  private hideLower(dir: string): void {
    for (const name of readdirSync(dir)) {
      const child = join(dir, name);
      if (!this.written.has(child)) rmSync(child, { recursive: true, force: true });
      else if (lstatOrUndefined(child)?.isDirectory()) this.hideLower(child);
    }
  }

  /** The path and its parents count as this layer's, whatever order the opaque marker comes in. */
  private markWritten(path: string): void {
    for (let p = path; p.length > this.root.length && !this.written.has(p); p = dirname(p)) this.written.add(p);
  }

  async close(): Promise<void> {
    await this.fsutil?.close();
  }

  private async whiteout(parent: string, base: string, entry: string, mtime: number): Promise<void> {
    const deleteMode = this.opts.whiteouts === "delete";
    if (base === OPAQUE_WHITEOUT) {
      if (deleteMode) this.hideLower(parent);
      else {
        await this.helper().setxattr(parent, this.opts.opaqueXattr ?? "trusted.overlay.opaque", Buffer.from("y"));
      }
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return; // aufs metadata (.wh..wh.plnk etc.)
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === "..") throw unsafePath(entry, "whiteout of an invalid name");
    const path = join(parent, name);
    rmSync(path, { recursive: true, force: true });
    if (deleteMode) return;
    await this.helper().mknodWhiteout(path);
    lutimesSync(path, mtime, mtime);
  }

  /** Hardlink targets are earlier entries: inside the root, and never reached through a symlink. */
  private linkTarget(h: TarHeader): string {
    const comps = cleanEntryName(h.linkname, h.name);
    if (comps.length === 0) throw unsafePath(h.name, "hardlink to the root");
    const dir = resolveDirInRoot(this.root, comps.slice(0, -1), { create: false, noSymlinks: true, entry: h.name });
    const target = join(dir, comps[comps.length - 1]!);
    const st = lstatOrUndefined(target);
    if (!st) throw new TsbuildError("layer/apply-failed", `${h.name}: hardlink target ${h.linkname} does not exist`);
    if (st.isDirectory()) throw unsafePath(h.name, "hardlink to a directory");
    return target;
  }

  private async setMetadata(path: string, h: TarHeader): Promise<void> {
    lchownSync(path, h.uid, h.gid);
    // chown clears setuid bits and file capabilities, so mode and xattrs come after it.
    if (h.type !== "symlink") chmodSync(path, h.mode);
    for (const [name, value] of h.xattrs) await this.helper().setxattr(path, name, value);
    if (h.type !== "dir") lutimesSync(path, h.mtime, h.mtime);
  }

  /** The native helper, started on first need: most layers have no devices or xattrs. */
  private helper(): FsUtil {
    return (this.fsutil ??= new FsUtil());
  }
}

async function writeContent(path: string, e: TarEntry): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for await (const chunk of e.body()) {
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
}
