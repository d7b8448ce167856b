/**
 * Writing selected sources into a destination root with BuildKit's COPY rules (fsutil `copy` with
 * FollowLinks and CopyDirContents): directory sources copy their contents, a file goes into an
 * existing directory under its own name or becomes the named file, missing parents are made
 * 0755, and no write ever passes through a symlink found in the destination below the resolved
 * destination path.
 */
import { chmod, copyFile, link, lchown, lstat, lutimes, mkdir, mkdtemp, rm, stat, symlink, unlink, utimes, UMASK } from "./fs-sync.js";
import { linkSync, lstatSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, posix, relative } from "node:path";
import { cleanPath } from "../../parser/dockerignore/index.js";
import { extractArchive, isArchive } from "./archive.js";
import { parseChmod, type ModeChange } from "./chmod.js";
import { contentDigestsFor, createFiles, DIGEST_BYTES, failureError, type CreateJob } from "./create-files.js";
import { CopyError } from "./errors.js";
import { isMissing, resolveInRoot } from "./root-path.js";
import { selectSources } from "./select.js";
import type { CopyOptions, FileEntry, SelectedSource } from "./types.js";

/** Copies `selection` (from selectSources) into `destRoot` as one COPY/ADD instruction would. */
export async function copySources(selection: readonly SelectedSource[], destRoot: string, opts: CopyOptions): Promise<void> {
  const destAbs = opts.dest.startsWith("/") ? opts.dest : posix.join(opts.workdir || "/", opts.dest);
  const dirSyntax = opts.dest === "" || opts.dest === "." || opts.dest.endsWith("/") || opts.dest.endsWith("/.");
  if (!opts.parents && selection.length > 1 && !dirSyntax) {
    throw new CopyError(
      "copy/bad-destination",
      `when copying more than one source file, the destination must be a directory and end with a /: ${opts.dest}`,
    );
  }
  const writer = new TreeWriter(destRoot, opts.chown, opts.chmod === undefined ? undefined : parseChmod(opts.chmod), { replaceExisting: false }, opts.reuse, opts.onContentDigest);
  const clean = cleanPath(destAbs);
  await writer.mkdirAllInRoot(dirSyntax || opts.parents ? clean : posix.dirname(clean));
  const dstHost = await resolveInRoot(destRoot, clean);
  for (const item of selection) {
    const top = item.files[0];
    if (!top) continue;
    if (opts.isAdd && top.type === "file" && (await isArchive(item.hostPath))) {
      await writer.mkdirAll(dstHost);
      await extractInto(item.hostPath, dstHost, destRoot);
    } else if (opts.parents && item.parents) {
      await writer.writeParents(item, dstHost);
    } else {
      await writer.writeSource(item, dstHost);
    }
    await writer.finish();
  }
}

/** Extracts into a fresh directory, then merges it in, so archive members never follow destination symlinks. */
async function extractInto(archive: string, dstHost: string, destRoot: string): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), "tsbuild-add-"));
  try {
    await extractArchive(archive, tmp);
    const [tree] = await selectSources(tmp, ["/"], { keepOwnership: true });
    const writer = new TreeWriter(destRoot, undefined, undefined, { replaceExisting: true });
    if (tree) await writer.writeTree(tree, dstHost, { topExists: true });
    await writer.finish();
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * `join(base, rel)` for a normalized `base` and an entry path (names from a listing joined by
 * `/`: nothing to normalize), without join's normalization pass: 50,000 of them in a 25k-file copy.
 */
function below(base: string, rel: string): string {
  if (rel === "") return base;
  return base.endsWith("/") ? base + rel : `${base}/${rel}`;
}

/** The owner of files this process creates (set-group-ID directories aside). */
const EUID = process.geteuid?.() ?? -1;
const EGID = process.getegid?.() ?? -1;

class TreeWriter {
  /** First destination path written for each source inode, to recreate hard links. */
  private readonly inodes = new Map<string, string>();
  /** Directory metadata is applied last, deepest first, so writing children does not change it. */
  private pendingDirs: { entry: FileEntry; target: string }[] = [];
  /** The group a new file gets in each destination directory (its own when set-group-ID); reset by finish(). */
  private newFileGid = new Map<string, number>();
  private lastGroup = { dir: "", gid: -1 };

  constructor(
    private readonly root: string,
    private readonly chown: { uid: number; gid: number } | undefined,
    private readonly modeChange: ModeChange | undefined,
    /** Archive semantics (Docker's Untar): whatever is in the way is removed, unless both are directories. */
    private readonly mode: { replaceExisting: boolean } = { replaceExisting: false },
    private readonly reuse?: CopyOptions["reuse"],
    private readonly onContentDigest?: CopyOptions["onContentDigest"],
  ) {}

  /** Creates every missing directory of the in-root path `p`, resolving symlinks inside the root. */
  async mkdirAllInRoot(p: string): Promise<void> {
    const parts = p.split("/").filter((s) => s !== "");
    for (let i = 1; i <= parts.length; i++) {
      await this.mkdirOne(await resolveInRoot(this.root, "/" + parts.slice(0, i).join("/")));
    }
  }

  /** Creates `hostPath` (already resolved) and its missing parents below the root. */
  async mkdirAll(hostPath: string): Promise<void> {
    const rel = relative(this.root, hostPath);
    if (rel === "") return;
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) await this.mkdirOne(join(this.root, ...parts.slice(0, i)));
  }

  private async mkdirOne(hostPath: string): Promise<void> {
    const st = await lstat(hostPath).catch((err) => (isMissing(err) ? undefined : Promise.reject(err)));
    if (st?.isDirectory()) return;
    if (st) throw new CopyError("copy/bad-destination", `${this.shown(hostPath)} exists and is not a directory`);
    await mkdir(hostPath);
    await chmod(hostPath, 0o755);
    if (this.chown) await lchown(hostPath, this.chown.uid, this.chown.gid);
  }

  /** One source without `--parents`: the destination rules of BuildKit's prepareTargetDir. */
  async writeSource(item: SelectedSource, dstHost: string): Promise<void> {
    const srcIsDir = item.files[0]!.type === "dir";
    const destSt = await stat(dstHost).catch((err) => (isMissing(err) ? undefined : Promise.reject(err)));
    let target = dstHost;
    if (!srcIsDir && destSt?.isDirectory()) target = join(dstHost, item.name);
    if (srcIsDir && !destSt) await this.mkdirAll(dstHost);
    else await this.mkdirAll(dirname(target));
    await this.writeTree(item, target, { topExists: srcIsDir });
  }

  /** One `--parents` source: its path below the pivot is recreated, parents with their source metadata. */
  async writeParents(item: SelectedSource, dstHost: string): Promise<void> {
    const parents = item.parents!;
    for (const dir of parents.dirs) await this.writeEntry(dir, join(parents.baseHostPath, dir.path), join(dstHost, dir.path), true);
    await this.writeTree(item, join(dstHost, parents.path), { topExists: false });
  }

  /**
   * Writes the entries of `item` at `target`. With `topExists` an existing directory at `target`
   * keeps its own metadata (BuildKit only overwrites metadata of nested directories).
   */
  async writeTree(item: SelectedSource, target: string, opts: { topExists: boolean }): Promise<void> {
    const creates: { job: CreateJob; entry: FileEntry; nested: boolean }[] = [];
    const srcBase = normalize(item.hostPath);
    const dstBase = normalize(target);
    for (const entry of item.files) {
      const nested = entry.path !== "" || !opts.topExists;
      const src = below(srcBase, entry.path);
      const dst = below(dstBase, entry.path);
      const job = this.planCreate(entry, src, dst);
      if (job === "linked") continue;
      if (job && entry.nlink > 1) {
        // Later names of this inode link to it, so it is created now.
        await this.createAll([{ job, entry, nested }]);
        this.inodes.set(`${entry.dev}:${entry.ino}`, dst);
      } else if (job) creates.push({ job, entry, nested });
      else await this.writeEntry(entry, src, dst, nested);
    }
    // Every directory of the tree exists now; its new files are written on two threads.
    await this.createAll(creates);
  }

  /**
   * Creates new regular files; where something is in the way (EEXIST: a file of an earlier
   * source, a symlink), the file goes through writeEntry instead. The first other failure, in
   * selection order, is thrown.
   */
  private async createAll(creates: readonly { job: CreateJob; entry: FileEntry; nested: boolean }[]): Promise<void> {
    if (creates.length === 0) return;
    const digests = this.onContentDigest && contentDigestsFor(creates.length);
    const failures = await createFiles(creates.map((c) => c.job), digests);
    if (digests) {
      for (let i = 0; i < creates.length; i++) {
        if (digests.done[i]) this.onContentDigest!(creates[i]!.job.src, Buffer.from(digests.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES)).toString("hex"));
      }
    }
    for (const f of failures) {
      if (f.code !== "EEXIST") throw failureError(f);
      const { job, entry, nested } = creates[f.index]!;
      await this.writeEntry(entry, job.src, job.dst, nested);
    }
  }

  private async writeEntry(entry: FileEntry, src: string, target: string, overwriteMeta: boolean): Promise<void> {
    let existing = await lstat(target).catch((err) => (isMissing(err) ? undefined : Promise.reject(err)));
    if (existing && this.mode.replaceExisting && !(existing.isDirectory() && entry.type === "dir")) {
      await rm(target, { recursive: true, force: true });
      existing = undefined;
    }
    if (entry.type === "dir") {
      if (existing && !existing.isDirectory()) {
        throw new CopyError("copy/bad-destination", `cannot copy to non-directory: ${this.shown(target)}`);
      }
      if (!existing) await mkdir(target, { mode: 0o700 });
      if (!existing || overwriteMeta) this.pendingDirs.push({ entry, target });
      return;
    }
    if (entry.type === "other") return; // sockets and fifos are not copied
    if (existing?.isDirectory()) {
      throw new CopyError("copy/bad-destination", `cannot replace to directory ${this.shown(target)} with file`);
    }
    if (existing) await unlink(target);
    if (entry.type === "symlink") {
      await symlink(entry.linkTarget!, target);
    } else {
      const key = `${entry.dev}:${entry.ino}`;
      const first = entry.nlink > 1 ? this.inodes.get(key) : undefined;
      if (first !== undefined) await link(first, target);
      else {
        if (this.linkIdentical(entry, src, target)) return;
        await copyFile(src, target);
        if (entry.nlink > 1) this.inodes.set(key, target);
      }
    }
    await this.applyInfo(entry, target);
  }

  /**
   * The common case, a regular file whose target does not exist yet, planned as a CreateJob: the
   * file is created exclusively (so a symlink or anything else in the way makes the job fail with
   * EEXIST, for writeEntry's general path), then owner, mode and times are set through the open
   * descriptor, skipping the owner and mode calls when creation already gives the right ones.
   * Large-context COPY (25k files), syscalls per file: 10 (lstat, stat, open, fstat, read, close,
   * open, write, close, lchown, chmod, utimensat) -> 7. "linked" when an identical earlier file
   * was linked instead; undefined when the entry needs writeEntry.
   */
  private planCreate(entry: FileEntry, src: string, target: string): CreateJob | "linked" | undefined {
    if (entry.type !== "file" || this.mode.replaceExisting) return undefined;
    if (entry.nlink > 1 && this.inodes.has(`${entry.dev}:${entry.ino}`)) return undefined;
    try {
      if (this.linkIdentical(entry, src, target)) return "linked";
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
      throw err;
    }
    const mode = this.modeChange ? this.modeChange(entry.mode, false) : entry.mode;
    const perm = mode & 0o777;
    const owner = this.chown ?? { uid: entry.uid, gid: entry.gid };
    const chowned = owner.uid !== EUID || owner.gid !== this.groupOfNewFile(target);
    return {
      src,
      dst: target,
      perm,
      size: entry.size,
      uid: chowned ? owner.uid : -1,
      gid: chowned ? owner.gid : -1,
      // chown clears set-id bits, so those are always set afterwards, as applyInfo does.
      mode: mode !== (perm & ~UMASK) ? mode : -1,
      atime: Number(entry.atimeNs) / 1e9,
      mtime: Number(entry.mtimeNs) / 1e9,
    };
  }

  /** The gid a file created in `target`'s directory gets: the directory's own if it is set-group-ID, else ours. */
  private groupOfNewFile(target: string): number {
    // Files of one directory come one after another: the last answer is checked first (a
    // dirname and a map lookup per file were 29 ms of a 25,000-file copy).
    const dir = target.slice(0, Math.max(1, target.lastIndexOf("/")));
    if (dir === this.lastGroup.dir) return this.lastGroup.gid;
    let gid = this.newFileGid.get(dir);
    if (gid === undefined) {
      const st = statSync(dir);
      gid = st.mode & 0o2000 ? st.gid : EGID;
      this.newFileGid.set(dir, gid);
    }
    this.lastGroup = { dir, gid };
    return gid;
  }

  /** Links an identical file of an earlier result (see CopyOptions.reuse); false when there is none. */
  private linkIdentical(entry: FileEntry, src: string, target: string): boolean {
    const prior = this.reuse?.(src, relative(this.root, target));
    if (prior === undefined) return false;
    const st = lstatSync(prior, { bigint: true, throwIfNoEntry: false });
    const owner = this.chown ?? { uid: entry.uid, gid: entry.gid };
    const mode = this.modeChange ? this.modeChange(entry.mode, false) : entry.mode;
    // utimes takes float seconds and libuv truncates them to microseconds: allow 2 µs.
    const near = (a: bigint, b: bigint) => (a > b ? a - b : b - a) < 2000n;
    if (!st?.isFile() || st.size !== BigInt(entry.size) || Number(st.uid) !== owner.uid || Number(st.gid) !== owner.gid) return false;
    if (Number(st.mode & 0o7777n) !== mode || !near(st.mtimeNs, entry.mtimeNs)) return false;
    linkSync(prior, target);
    return true;
  }

  /** Sets the metadata of the directories written so far, deepest first. */
  async finish(): Promise<void> {
    const dirs = this.pendingDirs.reverse();
    this.pendingDirs = [];
    this.newFileGid.clear(); // the metadata set below may make a directory set-group-ID
    this.lastGroup = { dir: "", gid: -1 };
    for (const { entry, target } of dirs) await this.applyInfo(entry, target);
  }

  /** Owner (chown first: it clears set-id bits), then mode, then times, as fsutil's copyFileInfo. */
  private async applyInfo(entry: FileEntry, target: string): Promise<void> {
    const owner = this.chown ?? { uid: entry.uid, gid: entry.gid };
    await lchown(target, owner.uid, owner.gid);
    const seconds = (ns: bigint) => Number(ns) / 1e9;
    if (entry.type === "symlink") {
      await lutimes(target, seconds(entry.atimeNs), seconds(entry.mtimeNs));
      return;
    }
    const mode = this.modeChange ? this.modeChange(entry.mode, entry.type === "dir") : entry.mode;
    await chmod(target, mode);
    await utimes(target, seconds(entry.atimeNs), seconds(entry.mtimeNs));
  }

  private shown(hostPath: string): string {
    return "/" + relative(this.root, hostPath);
  }
}
