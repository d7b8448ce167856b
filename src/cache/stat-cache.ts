import { closeSync, fstatSync, openSync, readFileSync, statSync, unlinkSync, type BigIntStats } from "node:fs";
import { join, resolve } from "node:path";
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
 */
const ENTRIES_HEADER = "tsbuild-statcache 2\n";
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
  let entriesIdentity: string | undefined; // the entries file as it was when `entries` was read
  const loadEntries = (): Map<string, string> => {
    const read = readEntries(file);
    entriesIdentity = read.identity;
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
        const unchanged = entries !== undefined && entriesIdentity !== undefined && entriesIdentity === fileIdentity(file);
        const merged = unchanged ? entries! : readEntries(file).entries;
        for (const [path, r] of changed) {
          if (r === null) {
            merged.delete(path);
            continue;
          }
          const theirs = unchanged ? undefined : merged.get(path);
          if (theirs === undefined || !newerOnDisk(theirs, r.recordedAtNs)) merged.set(path, lineOf(r));
        }
        writeFileAtomic(file, formatEntries(merged));
        entriesIdentity = fileIdentity(file);
        removeIfPresent(`${base}.json`); // the JSON file of version 1, replaced by this one
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

function formatEntries(entries: Map<string, string>): string {
  const parts: string[] = [];
  for (const [path, line] of entries) parts.push(path, line);
  return ENTRIES_HEADER + parts.join("\0");
}

/** unlinkSync, quiet when the file is gone; rmSync({ force }) would load Node's rimraf (0.5 ms). */
function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/**
 * The entries file's identity: inode, size and mtime. Every save replaces the file (a rename),
 * so another process's save gives it a new inode.
 */
function fileIdentity(file: string): string | undefined {
  try {
    return identityOf(statSync(file, { bigint: true }));
  } catch {
    return undefined;
  }
}

function identityOf(st: BigIntStats): string {
  return `${st.ino} ${st.size} ${st.mtimeNs}`;
}

/** The entries and the identity of the file they were read from (undefined when there is none). */
function readEntries(file: string): { entries: Map<string, string>; identity: string | undefined } {
  const out = new Map<string, string>();
  let text: string;
  let identity: string;
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    identity = identityOf(fstatSync(fd, { bigint: true }));
    text = readFileSync(fd, "utf8");
  } catch {
    return { entries: out, identity: undefined }; // missing or unreadable: start empty, it is only a cache
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (!text.startsWith(ENTRIES_HEADER)) return { entries: out, identity };
  const parts = text.slice(ENTRIES_HEADER.length).split("\0");
  if (parts.length % 2 !== 0) return { entries: out, identity }; // damaged: start empty
  for (let i = 0; i < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!);
  return { entries: out, identity };
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
