import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../internal/atomic-write.js";
import { ROOT_DIRS } from "../internal/root.js";
import { blake3Hex } from "./hash.js";

/**
 * A file whose mtime or ctime is this close to (or after) the moment its entry was recorded is
 * "racy" (git's rule): it could have changed within the timestamp granularity after we read
 * it, so its digest is never reused and the file is hashed again.
 */
export const RACY_WINDOW_NS = 1_000_000_000n;

/**
 * Per-file entries, one file per context: a header line, then NUL-separated pairs of
 * `path` and `size mtimeNs ctimeNs ino mode recordedAtNs digest` (paths may hold any byte but
 * NUL). Loading 25,000 entries is one read and one split; a JSON object per entry cost 35 ms
 * and most of a 47 ms garbage collection on the large-context no-op.
 *
 * Version 3's header also holds the body's byte length and BLAKE3, because the file is rewritten
 * in place (see overwrite): a reader that meets a half-written or interleaved file sees the
 * mismatch and starts empty, as for a missing file. Version 2 (written whole by rename) is read
 * as it is.
 */
const ENTRIES_MAGIC = "tsbuild-statcache ";
const ENTRIES_HEADER_V2 = `${ENTRIES_MAGIC}2\n`;
/** Bytes enough for the version 3 header line (magic, "3", length, 64 hex digits). */
const HEADER_MAX_BYTES = 128;
/** Whole-selection checksums (see lookupTree): a small JSON file, read on every build. */
const TREES_VERSION = 1;
/** How many selections' checksums a context keeps (one per distinct COPY source set). */
const MAX_TREES = 16;

/** The stat tuple that must match for a cached digest to be reused. */
export interface StatTuple {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: number;
  /** The full st_mode. */
  fullMode: number;
}

interface TreeEntry {
  fingerprint: string;
  checksum: string;
}

/**
 * Content digests of context files by relative path, trusted only while the stat tuple is
 * unchanged and not racy. Local to this machine: it never enters a cache key.
 */
export interface StatCache {
  /** The digest recorded for `relPath`, if its stat tuple matches and is not racy. */
  lookup(relPath: string, stat: StatTuple): string | undefined;
  /**
   * Records `digest` for `relPath`; `recordedAtNs` must be taken BEFORE the file was read. `stat`
   * is kept until saved and must not change meanwhile.
   */
  record(relPath: string, stat: StatTuple, digest: string, recordedAtNs: bigint): void;
  forget(relPath: string): void;
  /**
   * The checksum recorded for a whole selection whose stat fingerprint (every path with its
   * stat tuple and metadata) is `fingerprint`. Only selections with no racy file are recorded,
   * so a match needs no per-file lookup at all.
   */
  lookupTree(fingerprint: string): string | undefined;
  recordTree(fingerprint: string, checksum: string): void;
  /** Merges with what other processes saved meanwhile and writes atomically (only what changed). */
  save(): void;
  readonly file: string;
}

/** The stat-cache identity of a context: a hash of its absolute path (local only). */
export function contextIdentity(contextDir: string): string {
  return blake3Hex(resolve(contextDir)).slice(0, 32);
}

/**
 * Opens (or starts) the stat cache of `contextDir` under `<root>/cache/stat/`. Nothing is read
 * until it is asked: a build whose selections all match a recorded tree never loads the
 * per-file entries.
 */
export function openStatCache(root: string, contextDir: string): StatCache {
  const base = join(root, ROOT_DIRS.cache, "stat", contextIdentity(contextDir));
  const file = `${base}.entries`;
  const treesFile = `${base}.trees.json`;
  let entries: Map<string, string> | undefined; // path → "size mtime ctime ino mode recordedAt digest"
  let entriesHeader: string | undefined; // the header of the entries file `entries` was read from
  const loadEntries = (): Map<string, string> => {
    const read = readEntries(file);
    entriesHeader = read.header;
    return (entries = read.entries);
  };
  let trees: TreeEntry[] | undefined;
  // Recorded entries are kept as given and made into lines when saved or asked for: a cold COPY
  // records 25,000, and the build saves them while its next step runs (ops/copy.ts).
  const changed = new Map<string, Recorded | null>();
  const newTrees: TreeEntry[] = [];
  const stored = (relPath: string): string | undefined => {
    if (!changed.has(relPath)) return (entries ?? loadEntries()).get(relPath);
    const r = changed.get(relPath);
    return r ? lineOf(r) : undefined;
  };
  return {
    file,
    lookup(relPath, stat) {
      const line = stored(relPath);
      if (line === undefined) return undefined; // checked first: a cold build asks for 25,000 unknown paths
      const prefix = tupleText(stat);
      if (!line.startsWith(prefix)) return undefined;
      const rest = line.slice(prefix.length);
      const space = rest.indexOf(" ");
      const recordedAt = parseNs(rest.slice(0, space));
      const latest = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
      if (recordedAt === undefined || latest + RACY_WINDOW_NS >= recordedAt) return undefined;
      const digest = rest.slice(space + 1);
      return /^[0-9a-f]{64}$/.test(digest) ? digest : undefined; // anything else: damaged, hash again
    },
    record(relPath, stat, digest, recordedAtNs) {
      changed.set(relPath, { stat, digest, recordedAtNs });
    },
    forget(relPath) {
      changed.set(relPath, null);
    },
    lookupTree(fingerprint) {
      const found = newTrees.find((t) => t.fingerprint === fingerprint) ?? (trees ??= readTrees(treesFile)).find((t) => t.fingerprint === fingerprint);
      return found?.checksum;
    },
    recordTree(fingerprint, checksum) {
      if (this.lookupTree(fingerprint) !== checksum) newTrees.push({ fingerprint, checksum });
    },
    save() {
      if (changed.size) {
        // Re-read so entries another process saved since we read them are kept (when the file
        // is still the one we read, ours are all there is: the re-read and the merge's parsing
        // were 2 ms of a 0.08 s touch-only rebuild of 1,000 files). Two savers racing can still
        // lose one side's new entries; that costs a re-hash, never a wrong digest, because every
        // entry is checked against the file's current stat tuple before use.
        const unchanged = entries !== undefined && entriesHeader !== undefined && entriesHeader === currentHeader(file);
        const merged = unchanged ? entries! : readEntries(file).entries;
        for (const [path, r] of changed) {
          if (r === null) {
            merged.delete(path);
            continue;
          }
          const theirs = unchanged ? undefined : merged.get(path);
          if (theirs === undefined || !newerOnDisk(theirs, r.recordedAtNs)) merged.set(path, lineOf(r));
        }
        const formatted = formatEntries(merged);
        // Version 1's JSON file can only be there while no later entries file is.
        if (overwrite(file, formatted.data) === "created") removeIfPresent(`${base}.json`);
        entriesHeader = formatted.header;
        entries = merged;
        changed.clear();
      }
      if (newTrees.length) {
        const fresh = new Set(newTrees.map((t) => t.fingerprint));
        const kept = [...newTrees.reverse(), ...readTrees(treesFile).filter((t) => !fresh.has(t.fingerprint))].slice(0, MAX_TREES);
        writeFileAtomic(treesFile, JSON.stringify({ version: TREES_VERSION, trees: kept }));
        trees = kept;
        newTrees.length = 0;
      }
    },
  };
}

/** A recorded entry not saved yet; `stat` is the caller's object (not changed after recording). */
interface Recorded {
  stat: StatTuple;
  digest: string;
  recordedAtNs: bigint;
}

function lineOf(r: Recorded): string {
  return `${tupleText(r.stat)}${r.recordedAtNs} ${r.digest}`;
}

/** `size mtime ctime ino mode `: the part of an entry line that must match exactly. */
function tupleText(s: StatTuple): string {
  return `${s.size} ${s.mtimeNs} ${s.ctimeNs} ${s.ino} ${s.fullMode} `;
}

function parseNs(text: string): bigint | undefined {
  return /^\d+$/.test(text) ? BigInt(text) : undefined;
}

/** True when the line on disk was recorded later than ours (another process re-hashed it since). */
function newerOnDisk(theirs: string, oursRecordedAtNs: bigint): boolean {
  return (parseNs(theirs.split(" ")[5] ?? "") ?? -1n) > oursRecordedAtNs;
}

/** The whole file, version 3, and its header line (which identifies the content). */
function formatEntries(entries: Map<string, string>): { data: Buffer; header: string } {
  const parts: string[] = [];
  for (const [path, line] of entries) parts.push(path, line);
  const body = Buffer.from(parts.join("\0"), "utf8");
  const header = `${ENTRIES_MAGIC}3 ${body.length} ${blake3Hex(body)}\n`;
  return { data: Buffer.concat([Buffer.from(header, "latin1"), body]), header };
}

/**
 * Rewrites `file` in place: its inode and blocks are reused, no new file is made. On ext4,
 * creating a file (a temporary to rename) within a minute of another process deleting many
 * files waits on the journal: the bench's touch-only rebuild took 0.099-0.102 s right after
 * buildah removed its containers and 0.077-0.083 s otherwise. Readers check the header's length
 * and BLAKE3 and ignore a torn file.
 */
function overwrite(file: string, data: Buffer): "rewritten" | "created" {
  let fd: number;
  let outcome: "rewritten" | "created" = "rewritten";
  try {
    fd = openSync(file, "r+");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    mkdirSync(dirname(file), { recursive: true });
    fd = openSync(file, "w");
    outcome = "created";
  }
  try {
    writeSync(fd, data, 0, data.length, 0);
    // Only a shorter file needs cutting: ftruncate to the same length still cost ~1 ms on ext4
    // here, and a touch-only rebuild rewrites the file at the length it had.
    if (fstatSync(fd).size > data.length) ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
  return outcome;
}

/** unlinkSync, quiet when the file is gone; rmSync({ force }) would load Node's rimraf (0.5 ms). */
function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** The header line of the entries file now (its identity: the body's length and BLAKE3), if any. */
function currentHeader(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const buf = Buffer.alloc(HEADER_MAX_BYTES);
    return headerLine(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The first line of an entries file's bytes, its newline included, if it ends within HEADER_MAX_BYTES. */
function headerLine(bytes: Buffer): string | undefined {
  const end = bytes.subarray(0, HEADER_MAX_BYTES).indexOf(10);
  return end < 0 ? undefined : bytes.toString("latin1", 0, end + 1);
}

/** The entries and the header line they were read under (undefined when there is no valid file). */
function readEntries(file: string): { entries: Map<string, string>; header: string | undefined } {
  const out = new Map<string, string>();
  const empty = { entries: out, header: undefined };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return empty; // missing or unreadable: start empty, it is only a cache
  }
  const header = headerLine(bytes);
  if (header === undefined) return empty;
  const body = bytes.subarray(header.length);
  if (header !== ENTRIES_HEADER_V2) {
    const m = /^tsbuild-statcache 3 (\d+) ([0-9a-f]{64})\n$/.exec(header);
    if (!m || Number(m[1]) !== body.length || blake3Hex(body) !== m[2]) return empty; // another version, torn or damaged
  }
  const parts = body.toString("utf8").split("\0");
  if (parts.length % 2 !== 0) return empty; // damaged: start empty
  for (let i = 0; i < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!);
  return { entries: out, header };
}

function readTrees(file: string): TreeEntry[] {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { version?: number; trees?: TreeEntry[] };
    if (parsed?.version !== TREES_VERSION || !Array.isArray(parsed.trees)) return [];
    return parsed.trees.filter((t) => typeof t?.fingerprint === "string" && typeof t.checksum === "string");
  } catch {
    return []; // missing or damaged: start empty
  }
}
