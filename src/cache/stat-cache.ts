import { readFileSync } from "node:fs";
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

const STAT_CACHE_VERSION = 1;

/** The stat tuple that must match for a cached digest to be reused. */
export interface StatTuple {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  mode: number;
}

/** One stored entry; bigints are kept as decimal strings in JSON. */
interface StoredEntry {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  mode: number;
  digest: string;
  recordedAtNs: string;
}

interface StoredFile {
  version: number;
  entries: Record<string, StoredEntry>;
}

/**
 * Content digests of context files by relative path, trusted only while the stat tuple is
 * unchanged and not racy. Local to this machine: it never enters a cache key.
 */
export interface StatCache {
  /** The digest recorded for `relPath`, if its stat tuple matches and is not racy. */
  lookup(relPath: string, stat: StatTuple): string | undefined;
  /** Records `digest` for `relPath`; `recordedAtNs` must be taken BEFORE the file was read. */
  record(relPath: string, stat: StatTuple, digest: string, recordedAtNs: bigint): void;
  forget(relPath: string): void;
  /** Merges with what other processes saved meanwhile and writes atomically. */
  save(): void;
  readonly file: string;
}

/** The stat-cache identity of a context: a hash of its absolute path (local only). */
export function contextIdentity(contextDir: string): string {
  return blake3Hex(resolve(contextDir)).slice(0, 32);
}

/** Opens (or starts) the stat cache of `contextDir` under `<root>/cache/stat/`. */
export function openStatCache(root: string, contextDir: string): StatCache {
  const file = join(root, ROOT_DIRS.cache, "stat", `${contextIdentity(contextDir)}.json`);
  const entries = readEntries(file);
  const changed = new Map<string, StoredEntry | null>();
  return {
    file,
    lookup(relPath, stat) {
      const e = changed.has(relPath) ? changed.get(relPath) : entries.get(relPath);
      if (!e || !sameStat(e, stat)) return undefined;
      const recordedAt = BigInt(e.recordedAtNs);
      const latest = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
      if (latest + RACY_WINDOW_NS >= recordedAt) return undefined;
      return e.digest;
    },
    record(relPath, stat, digest, recordedAtNs) {
      changed.set(relPath, {
        size: stat.size,
        mtimeNs: String(stat.mtimeNs),
        ctimeNs: String(stat.ctimeNs),
        ino: String(stat.ino),
        mode: stat.mode,
        digest,
        recordedAtNs: String(recordedAtNs),
      });
    },
    forget(relPath) {
      changed.set(relPath, null);
    },
    save() {
      if (changed.size === 0) return;
      // Re-read so entries another process saved since we opened are kept. Two savers racing
      // can still lose one side's new entries; that costs a re-hash, never a wrong digest,
      // because every entry is checked against the file's current stat tuple before use.
      const merged = readEntries(file);
      for (const [path, e] of changed) {
        const theirs = merged.get(path);
        if (e === null) merged.delete(path);
        else if (!theirs || BigInt(theirs.recordedAtNs) <= BigInt(e.recordedAtNs)) merged.set(path, e);
      }
      const out: StoredFile = { version: STAT_CACHE_VERSION, entries: Object.fromEntries(merged) };
      writeFileAtomic(file, JSON.stringify(out));
      entries.clear();
      for (const [path, e] of merged) entries.set(path, e);
      changed.clear();
    },
  };
}

function sameStat(e: StoredEntry, s: StatTuple): boolean {
  return (
    e.size === s.size && e.mode === s.mode && e.mtimeNs === String(s.mtimeNs) &&
    e.ctimeNs === String(s.ctimeNs) && e.ino === String(s.ino)
  );
}

function readEntries(file: string): Map<string, StoredEntry> {
  let parsed: StoredFile;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as StoredFile;
  } catch {
    return new Map(); // missing or unreadable: start empty, it is only a cache
  }
  if (parsed?.version !== STAT_CACHE_VERSION || typeof parsed.entries !== "object") return new Map();
  return new Map(Object.entries(parsed.entries));
}
