import { closeSync, constants as fsConstants, openSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { blake3Hex, createBlake3 } from "./hash.js";
import { RACY_WINDOW_NS, type StatCache } from "./stat-cache.js";
import { fsAddon, type ReadFilesHandle } from "../internal/fs-addon.js";
import type { ContextEntry } from "./walk-context.js";

/** Read size; bigger files are streamed through the hasher chunk by chunk. */
const CHUNK = 4 * 1024 * 1024;
const CHECKSUM_PREFIX = "tsbuild.contextsum.v2"; // joined to the entries with NUL
// Version 3: tree checksums recorded under version 2 were of contextsum v1.
const FINGERPRINT_PREFIX = "tsbuild.statfingerprint.v3\0";

/**
 * A selected file for checksumming: a walked entry whose uid/gid are already what they WILL be
 * after the copy (the caller applies --chown, or zero for the context as BuildKit does).
 */
export type ChecksumEntry = ContextEntry;

export interface ContextChecksum {
  /** BLAKE3 over every selected path and its entry's text (see entryText), in path order. */
  checksum: string;
  /**
   * Entry digest per selected path (type, permission bits, owner, link target, content), sorted.
   * Computed on first use when the checksum came whole from the stat cache.
   */
  readonly paths: Map<string, string>;
}

export interface ChecksumOptions {
  /** Reuses content digests of files whose stat tuple is unchanged and not racy. */
  statCache?: StatCache;
  /** Called once for every file whose content is read (tests count reads with it). */
  onRead?: (relPath: string) => void;
  /** Wall clock in ns for the stat cache's racy check; injectable for tests. */
  now?: () => bigint;
  /**
   * Content digests already computed from the files' bytes (by a copy that read them), by
   * path; these files are not read again. They are recorded in the stat cache like files read
   * here, so they must have been read after `startedAt`.
   */
  contentDigests?: ReadonlyMap<string, string>;
  /** When the reads began (ns), if before this call: the racy rule compares against it. */
  startedAt?: bigint;
  /** The caller saves the stat cache itself (later); by default it is saved before returning. */
  deferSave?: boolean;
}

/**
 * The content checksum of exactly `entries` under `root`: content bytes, file type, permission
 * bits (with setuid/setgid/sticky), ownership and link targets — never mtimes, inode numbers or
 * the absolute root, so equal trees give equal checksums anywhere.
 *
 * With a stat cache, a selection whose every path and stat tuple is as recorded (and was not
 * racy then) takes its checksum whole from the cache: one hash over the stat tuples instead of
 * a lookup and an entry digest per file (the large-context no-op: 25,000 files).
 */
export function checksumContext(root: string, entries: ChecksumEntry[], options: ChecksumOptions = {}): ContextChecksum {
  const now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  const startedAt = options.startedAt ?? now(); // taken before any read: the racy check compares against it
  const sorted = isSorted(entries) ? entries : [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const cache = options.statCache;
  const print = cache ? fingerprint(sorted) : undefined;
  const cached = print && cache!.lookupTree(print.digest);
  if (cached) {
    let paths: Map<string, string> | undefined;
    return {
      checksum: cached,
      get paths() {
        return (paths ??= digestEntries(root, sorted, startedAt, options).paths);
      },
    };
  }
  const result = digestEntries(root, sorted, startedAt, options);
  if (print && print.latestNs + RACY_WINDOW_NS < startedAt) cache!.recordTree(print.digest, result.checksum);
  if (!options.deferSave) cache?.save();
  return result;
}

/** The checksum the slow way: every entry's text, content digests from the stat cache or read. */
function digestEntries(root: string, sorted: ChecksumEntry[], startedAt: bigint, options: ChecksumOptions): ContextChecksum {
  // Content digests known without reading: recorded in the stat cache, or from a copy's bytes.
  const contents: (string | undefined)[] = new Array<string | undefined>(sorted.length);
  const toRead: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (e.type !== "file") continue;
    let digest = options.statCache?.lookup(e.path, e);
    if (digest === undefined) {
      digest = options.contentDigests?.get(e.path);
      if (digest !== undefined) options.statCache?.record(e.path, e, digest, startedAt);
    }
    if (digest === undefined) toRead.push(i);
    else contents[i] = digest;
  }
  // Entry paths are clean and relative (the walk made them): a prefix instead of a path.join per
  // file (its normalising was 3.4 ms of a 73 ms touch-only rebuild of 1,000 files).
  const prefix = toRead.length > 0 ? hostPrefix(root) : "";
  const readNatively = batchReader(prefix, sorted, toRead);
  if (!readNatively) readAhead(prefix, sorted, toRead); // the batch reader asks for it when the files are not cached
  for (const i of toRead) {
    const e = sorted[i]!;
    options.onRead?.(e.path);
    const bytes = readNatively?.(i);
    const digest = bytes ? blake3Hex(bytes) : hashFile(prefix + e.path, e.size);
    options.statCache?.record(e.path, e, digest, startedAt);
    contents[i] = digest;
  }
  // The entries' texts, not their digests: a rebuild that hits the cache never needs a digest
  // per entry (1,000 BLAKE3 calls were 2.3 ms of a 70 ms touch-only rebuild), only a miss does.
  const parts: string[] = [CHECKSUM_PREFIX];
  for (let i = 0; i < sorted.length; i++) parts.push(sorted[i]!.path, entryText(sorted[i]!, contents[i] ?? ""));
  parts.push("");
  let paths: Map<string, string> | undefined;
  return {
    // One update over the joined text: 25,000 native calls fewer than an update per entry.
    checksum: blake3Hex(parts.join("\0")),
    get paths() {
      return (paths ??= new Map(sorted.map((e, i) => [e.path, entryDigest(e, contents[i] ?? "")])));
    },
  };
}

/** `root` normalised, with one trailing slash: entry paths appended to it are host paths. */
function hostPrefix(root: string): string {
  const r = resolve(root);
  return r.endsWith("/") ? r : `${r}/`;
}

/** Below this many files to read, the reads are not worth a thread. */
const READ_AHEAD_MIN_FILES = 8;

/**
 * Files about to be read are handed to the native addon's read-ahead thread first: the reads
 * below then find them in the page cache instead of waiting for the disk one small file at a
 * time (a cold page cache: 1.95 s → 0.48 s for 25,000 files / 250 MB here).
 */
function readAhead(prefix: string, sorted: ChecksumEntry[], toRead: readonly number[]): void {
  const addon = fsAddon();
  if (!addon || toRead.length < READ_AHEAD_MIN_FILES) return;
  const paths: string[] = [];
  for (const i of toRead) if (sorted[i]!.size > 0) paths.push(prefix + sorted[i]!.path);
  if (paths.length >= READ_AHEAD_MIN_FILES) addon.prefetch(paths.join("\0"));
}

/**
 * Bytes per batch of reads. One buffer for all 10 MB of the touch-only rebuild was slower: the
 * first touch of fresh pages cost more (8 ms in its profile) than fewer calls saved. The first
 * batch is smaller: the hashing waits for it alone.
 */
const BATCH_BYTES = 1024 * 1024;
const FIRST_BATCH_BYTES = 128 * 1024;
/** Bigger files are hashed by hashFile, in chunks. */
const BATCH_FILE_MAX = 256 * 1024;
/** Below this many files to read, openSync/readSync/closeSync are as quick. */
const BATCH_MIN_FILES = 16;

interface Batch {
  /** Indexes in `sorted`, in `toRead` order. */
  files: number[];
  sizes: Float64Array;
  results: Float64Array;
  data: Buffer;
  handle: ReadFilesHandle;
}

/**
 * The bytes of the files to read, through the native addon's readFilesStart (its own threads,
 * no per-file Node call): a function from an index in `sorted` to the file's whole content, or
 * to undefined where the caller reads the file itself (too big, unreadable, or its size is not
 * what lstat said: hashFile then reports the error or hashes what is there now). Indexes must be
 * asked for in `toRead` order. While the caller hashes one batch the next is being read, into
 * the other of two buffers. The touch-only rebuild of 1,000 files / 10 MB: 82.7 → 79.0 ms with
 * the reads in batches (20 alternating runs), 71.9 → 69.6 ms with the next batch read meanwhile
 * (30 alternating runs).
 */
function batchReader(prefix: string, sorted: ChecksumEntry[], toRead: readonly number[]): ((i: number) => Buffer | undefined) | undefined {
  const addon = fsAddon();
  const small = toRead.filter((i) => sorted[i]!.size <= BATCH_FILE_MAX);
  if (!addon || small.length < BATCH_MIN_FILES) return undefined;
  const buffers: Buffer[] = [];
  let next = 0; // the first of `small` in no batch yet
  let started = 0; // batches started
  const start = (): Batch | undefined => {
    if (next >= small.length) return undefined;
    const limit = started === 0 ? FIRST_BATCH_BYTES : BATCH_BYTES;
    let bytes = 0;
    let end = next;
    while (end < small.length && (end === next || bytes + sorted[small[end]!]!.size <= limit)) bytes += sorted[small[end++]!]!.size;
    const files = small.slice(next, end);
    next = end;
    const sizes = new Float64Array(files.map((i) => sorted[i]!.size));
    const results = new Float64Array(files.length);
    const slot = started++ % 2; // the batch before the previous one is hashed: its buffer is free
    if ((buffers[slot]?.length ?? -1) < bytes) buffers[slot] = Buffer.allocUnsafe(Math.max(bytes, BATCH_BYTES));
    const data = buffers[slot]!;
    return { files, sizes, results, data, handle: addon.readFilesStart(files.map((i) => prefix + sorted[i]!.path).join("\0"), sizes, data, results) };
  };
  let reading = start();
  let aheadAsked = false;
  const slots = new Map<number, Buffer>();
  return (i) => {
    if (sorted[i]!.size > BATCH_FILE_MAX) return undefined;
    if (reading && i === reading.files[0]) {
      const done = reading;
      // Read-ahead of the rest only when these files were not all in the page cache: on a warm
      // cache its thread only competed with the reads (1,000 open/fadvise/close calls).
      if (addon.readFilesWait(done.handle) > 0 && !aheadAsked) {
        aheadAsked = true;
        readAhead(prefix, sorted, [...small.slice(next), ...toRead.filter((f) => sorted[f]!.size > BATCH_FILE_MAX)]);
      }
      reading = start();
      slots.clear();
      let offset = 0;
      done.files.forEach((f, k) => {
        const size = done.sizes[k]!;
        if (done.results[k] === size) slots.set(f, done.data.subarray(offset, offset + size));
        offset += size;
      });
    }
    return slots.get(i);
  };
}

/**
 * A local fingerprint of what the checksum depends on, as lstat sees it: every path, link target,
 * st_mode, owner, and for files size, mtime, ctime and inode. Equal fingerprints mean every file
 * has the stat tuple it had when the recorded checksum was computed. `latestNs`: the newest file
 * mtime/ctime, for the racy rule.
 */
function fingerprint(sorted: ChecksumEntry[]): { digest: string; latestNs: bigint } {
  const n = sorted.length;
  const names: string[] = new Array<string>(2 * n); // path, link target: no string built per entry
  const nums = new Float64Array(n * 5);
  const stamps = new BigInt64Array(n * 2);
  let latestNs = 0n;
  for (let i = 0; i < n; i++) {
    const e = sorted[i]!;
    names[2 * i] = e.path;
    names[2 * i + 1] = e.linkTarget ?? "";
    nums[i * 5] = e.fullMode;
    nums[i * 5 + 1] = e.uid;
    nums[i * 5 + 2] = e.gid;
    if (e.type !== "file") continue;
    nums[i * 5 + 3] = e.size;
    nums[i * 5 + 4] = e.ino;
    stamps[i * 2] = e.mtimeNs;
    stamps[i * 2 + 1] = e.ctimeNs;
    if (e.mtimeNs > latestNs) latestNs = e.mtimeNs;
    if (e.ctimeNs > latestNs) latestNs = e.ctimeNs;
  }
  const digest = createBlake3().update(FINGERPRINT_PREFIX).update(names.join("\0")).update(new Uint8Array(nums.buffer)).update(new Uint8Array(stamps.buffer)).digestHex();
  return { digest, latestNs };
}

function isSorted(entries: ChecksumEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (!(entries[i - 1]!.path < entries[i]!.path)) return false;
  return true;
}

/**
 * One entry's metadata that survives a copy, and its content digest, as NUL-separated fields
 * (none can hold a NUL, and there are always seven: the checksum's text is unambiguous).
 */
function entryText(e: ChecksumEntry, contentDigest: string): string {
  const perm = e.type === "symlink" ? "777" : (e.mode & 0o7777).toString(8);
  return `${e.type}\0${perm}\0${e.uid}\0${e.gid}\0${e.type === "file" ? e.size : 0}\0${e.linkTarget ?? ""}\0${contentDigest}`;
}

/** The digest of one entry (see entryText): what a miss records per path and compares with the last build. */
export function entryDigest(e: ChecksumEntry, contentDigest: string): string {
  // One-shot hashing: no hasher object per entry (82 ms of a 0.74 s no-op over 25k files).
  return blake3Hex(entryText(e, contentDigest));
}

// One buffer for every read: the hashing is synchronous, so it is never shared by two reads.
let readBuffer: Buffer | undefined;

/**
 * Reading a file whose atime is not newer than its mtime (every file just touched or written)
 * makes the kernel write the inode back under relatime; the owner (or root) can skip that.
 */
const NO_ATIME = fsConstants.O_RDONLY | (fsConstants.O_NOATIME ?? 0);
let noAtimeAllowed = NO_ATIME !== fsConstants.O_RDONLY;

function openForRead(path: string): number {
  if (noAtimeAllowed) {
    try {
      return openSync(path, NO_ATIME);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EPERM") throw err;
      noAtimeAllowed = false; // not the owner: plain reads from now on
    }
  }
  return openSync(path, "r");
}

/**
 * BLAKE3 of a file's bytes, read synchronously in chunks (sync reads are fastest, notes §2).
 * A file that fits one chunk is hashed in one call, without a hasher object; with `size` (from
 * lstat), such a file is read with one read call instead of two.
 */
export function hashFile(path: string, size?: number): string {
  const fd = openForRead(path);
  try {
    const buf = (readBuffer ??= Buffer.allocUnsafe(CHUNK));
    let hasher: ReturnType<typeof createBlake3> | undefined;
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, CHUNK - filled, null);
      if (n === 0) break;
      filled += n;
      if (filled === CHUNK) {
        (hasher ??= createBlake3()).update(buf);
        filled = 0;
      } else if (!hasher && filled === size) {
        break; // short of what was asked for and what lstat said: the end (a grown file is reread next time, its stat differs)
      }
    }
    if (!hasher) return blake3Hex(buf.subarray(0, filled));
    if (filled) hasher.update(buf.subarray(0, filled));
    return hasher.digestHex();
  } finally {
    closeSync(fd);
  }
}
