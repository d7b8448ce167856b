import { closeSync, fstatSync, openSync, readFileSync, readSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../internal/atomic-write.js";
import { ROOT_DIRS } from "../internal/root.js";
import { TsbuildError } from "../errors/index.js";
import type { CacheKey } from "./cache-key.js";
import { blake3Hex } from "./hash.js";
import { listDirOrEmpty } from "../internal/list-dir.js";

/** The inputs of a step kept for explaining a later miss; structured, never secret values. */
export interface StepInputs {
  /** RUN: the command as the user wrote it (or the exec form joined). */
  command?: string;
  /** RUN: `NAME=value` environment (ENV) as resolved. */
  env?: string[];
  /** RUN: build args in scope and used, `NAME=value`. */
  args?: string[];
  /** COPY/ADD: the sources as written. */
  sources?: string[];
  /** COPY/ADD: entry digest per copied path, in path order; capped at MAX_RECORDED_PATHS. */
  paths?: Record<string, string>;
  /** True when `paths` was cut at the cap, so a change past it is reported without a path. */
  pathsTruncated?: boolean;
  /** COPY/ADD: the overall content checksum of the sources. */
  checksum?: string;
  /** Anything else that entered the key, by name (dest, user, workdir, mounts…). */
  other?: Record<string, string>;
}

/** How many per-path digests a record keeps for explanations. */
export const MAX_RECORDED_PATHS = 10_000;

/** Per-path digests in path order, cut at `max` for storing in a record's inputs. */
export function capPaths(paths: Map<string, string>, max = MAX_RECORDED_PATHS): Pick<StepInputs, "paths" | "pathsTruncated"> {
  const sorted = [...paths.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const kept = sorted.slice(0, max);
  const out: Pick<StepInputs, "paths" | "pathsTruncated"> = { paths: Object.fromEntries(kept.map((p) => [p, paths.get(p)!])) };
  if (sorted.length > max) out.pathsTruncated = true;
  return out;
}

export interface StepSummary {
  kind: string;
  /** One line for people: the RUN command, `COPY src/ /app/`, the base reference… */
  description: string;
  parentKey: CacheKey | null;
  inputs: StepInputs;
}

/** What the cache remembers about one key. Times are ms since the epoch. */
export interface CacheRecord {
  key: CacheKey;
  /** Name of the committed snapshot holding the result. */
  snapshot: string;
  layer?: { diffId: string; descriptor?: { mediaType: string; digest: string; size: number } };
  createdAt: number;
  lastUsedAt: number;
  /** Bytes the snapshot uses on disk, when known. */
  size?: number;
  step: StepSummary;
}

/**
 * The persistent cache index: one file per record under
 * `<root>/cache/records/<key[0:2]>/<key>.json`, each written by temp + rename, so several
 * processes can read and write at once without a global lock (last writer of a key wins, and
 * every reader sees a whole record). `lastForStep` maps a step identity to the key its last
 * build produced, for explaining misses.
 *
 * A record file is one JSON line, then (for COPY) a second JSON line with the per-path digests,
 * which only a miss needs: a hit parses a few hundred bytes, not a 900 KB path list. The file's
 * mtime is the record's last use, so marking a hit is one utimes, not a rewrite.
 */
export interface CacheIndex {
  get(key: CacheKey): CacheRecord | undefined;
  put(record: CacheRecord): void;
  /** Marks a record used now (best effort: a concurrent delete wins). */
  touch(key: CacheKey, now?: number): void;
  lastForStep(stepId: string): CacheKey | undefined;
  setLastForStep(stepId: string, key: CacheKey): void;
  /** Every record; unreadable or half-written files are skipped. */
  list(): CacheRecord[];
  /** Step identities and the key each last produced. */
  listSteps(): { stepId: string; key: CacheKey }[];
  delete(key: CacheKey): void;
}

/**
 * The identity of a step across builds: Dockerfile path, stage (name or index), instruction
 * position and text. Two builds of the same step share it even when their keys differ.
 */
export function stepIdentity(parts: { dockerfile: string; stage: string | number; position: number; text: string }): string {
  return JSON.stringify([parts.dockerfile, String(parts.stage), parts.position, parts.text]);
}

export function openCacheIndex(root: string): CacheIndex {
  const dir = join(root, ROOT_DIRS.cache);
  const recordsDir = join(dir, "records");
  const stepsDir = join(dir, "steps");
  const recordPath = (key: CacheKey) => {
    if (!/^[0-9a-f]{16,128}$/.test(key)) throw new TsbuildError("cache/invalid-key", `invalid cache key ${JSON.stringify(key)}`);
    return join(recordsDir, key.slice(0, 2), `${key}.json`);
  };
  const stepPath = (stepId: string) => join(stepsDir, `${blake3Hex(stepId)}.json`);

  const index: CacheIndex = {
    get: (key) => readRecord(recordPath(key)),
    put(record) {
      const path = recordPath(record.key);
      writeFileAtomic(path, formatRecord(record));
      setLastUsed(path, record.lastUsedAt);
    },
    touch(key, now = Date.now()) {
      const path = recordPath(key);
      if (lastUsed(path) < now) setLastUsed(path, now);
    },
    lastForStep(stepId) {
      const s = readJson(stepPath(stepId)) as { stepId?: string; key?: string } | undefined;
      return s?.stepId === stepId && typeof s.key === "string" ? s.key : undefined;
    },
    setLastForStep(stepId, key) {
      if (index.lastForStep(stepId) !== key) writeFileAtomic(stepPath(stepId), JSON.stringify({ stepId, key }));
    },
    list() {
      const out: CacheRecord[] = [];
      for (const shard of listDirOrEmpty(recordsDir)) {
        for (const f of listDirOrEmpty(join(recordsDir, shard))) {
          if (!f.endsWith(".json") || f.startsWith(".")) continue;
          const r = readRecord(join(recordsDir, shard, f));
          if (r) out.push(r);
        }
      }
      return out;
    },
    listSteps() {
      const out: { stepId: string; key: CacheKey }[] = [];
      for (const f of listDirOrEmpty(stepsDir)) {
        if (f.startsWith(".") || !f.endsWith(".json")) continue;
        const s = readJson(join(stepsDir, f)) as { stepId?: unknown; key?: unknown } | undefined;
        if (typeof s?.stepId === "string" && typeof s.key === "string") out.push({ stepId: s.stepId, key: s.key });
      }
      return out;
    },
    delete(key) {
      rmSync(recordPath(key), { force: true });
    },
  };
  return index;
}

/** The record without its path digests, then the path digests (when there are any) on a second line. */
function formatRecord(record: CacheRecord): string {
  const { paths, ...inputs } = record.step.inputs;
  const head = JSON.stringify({ ...record, step: { ...record.step, inputs } });
  return paths === undefined ? head : `${head}\n${JSON.stringify({ paths })}`;
}

/** When the record file was last used (its mtime), or Infinity when it is gone. */
function lastUsed(path: string): number {
  try {
    return Math.round(statSync(path).mtimeMs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return Infinity;
    throw err;
  }
}

/** Marks the record file used at `ms` (its mtime; best effort: a concurrent delete wins). */
function setLastUsed(path: string, ms: number): void {
  try {
    utimesSync(path, ms / 1000, ms / 1000);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** How much of a record file is read first: its first line, the record without path digests, fits. */
const HEAD_BYTES = 64 * 1024;

function readRecord(path: string): CacheRecord | undefined {
  let head: string;
  let usedAt: number;
  let whole: boolean;
  try {
    const fd = openSync(path, "r");
    try {
      const st = fstatSync(fd);
      usedAt = Math.round(st.mtimeMs);
      const buf = Buffer.allocUnsafe(Math.min(st.size, HEAD_BYTES));
      const n = readSync(fd, buf, 0, buf.length, 0);
      head = buf.toString("utf8", 0, n);
      whole = n >= st.size;
      if (!whole && !head.includes("\n")) {
        head = readFileSync(path, "utf8"); // a first line this long: an old record with paths inline
        whole = true;
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const newline = head.indexOf("\n");
  const r = parseJson(newline < 0 ? head : head.slice(0, newline)) as CacheRecord | undefined;
  if (!(r && typeof r.key === "string" && typeof r.snapshot === "string" && r.step && typeof r.step.inputs === "object")) return undefined;
  r.lastUsedAt = usedAt;
  if (newline >= 0) lazyPaths(r.step.inputs, () => afterFirstLine(whole ? head : readFileSync(path, "utf8")));
  return r;
}

function afterFirstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline < 0 ? "" : text.slice(newline + 1);
}

/** `inputs.paths` parsed from the record's second line on first use (only misses look at it). */
function lazyPaths(inputs: StepInputs, secondLine: () => string): void {
  let paths: Record<string, string> | undefined;
  Object.defineProperty(inputs, "paths", {
    enumerable: true,
    configurable: true,
    // Damaged: no paths, so a miss is explained without them and nothing is reused.
    get: () => (paths ??= (parseJson(readOr(secondLine, "")) as { paths?: Record<string, string> } | undefined)?.paths),
  });
}

/**
 * The second line, read again on first use. The file may have been replaced since by a writer
 * of the same key, whose path digests are the same (the key covers the checksum they make up);
 * if it was deleted, there are no paths.
 */
function readOr(read: () => string, fallback: string): string {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not ours or damaged: treated as absent, the step is rebuilt
  }
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return parseJson(text);
}

