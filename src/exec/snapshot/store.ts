/**
 * On-disk metadata of the snapshotter. Layout under `<root>/snapshots`:
 *
 *   index/<sha256(key or name)>   {"name": …, "id": …, "kind"?: …}: one exclusive create, so the
 *                                 first writer wins; an empty entry is one being written (see
 *                                 link). A commit adds the name's entry with kind "committed"
 *                                 and leaves info.json as prepared
 *   <id>/info.json                the snapshot's record (kind, parent, layer chain)
 *   <id>/fs                       the snapshot's own tree (overlay upper dir, or a full copy)
 *   <id>/work                     overlay workdir: only empty entries once unmounted; kept after
 *                                 commit (removing them took 5 metadata ops per RUN) and removed
 *                                 with the snapshot
 *   <id>/diff                     copy driver: the changes against the parent, overlay format
 *
 * Ids are 8 hex digits so that a lowerdir option of a few hundred layers stays under a page.
 * New snapshot directories are built under a temporary name and renamed into place.
 */
import { sha256Hex } from "../../internal/digest.js";
import { randomHex } from "../../internal/random-hex.js";
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ROOT_DIRS } from "../../internal/root.js";
import type { SnapshotDriver, SnapshotKind } from "./types.js";

export interface SnapshotRecord {
  id: string;
  /** The key (active) or name (committed). */
  name: string;
  kind: SnapshotKind;
  driver: SnapshotDriver;
  parent?: string;
  /** Ids of the ancestors, oldest first (the parent last). */
  ancestors: string[];
  createdAt: number;
}

interface IndexEntry {
  name: string;
  id: string;
  /** Set by commit; absent in entries whose record already has the right kind. */
  kind?: SnapshotKind;
}

export class SnapshotStore {
  readonly dir: string;
  private readonly indexDir: string;

  constructor(root: string) {
    this.dir = join(root, ROOT_DIRS.snapshots);
    this.indexDir = join(this.dir, "index");
    mkdirSync(this.indexDir, { recursive: true });
  }

  idDir(id: string): string {
    return join(this.dir, id);
  }

  /** The id that `name` (a key or a name) maps to, or undefined. */
  lookup(name: string): string | undefined {
    return this.entry(name)?.id;
  }

  /**
   * Looks up `name` and reads its record; undefined when either is missing. The entry's kind
   * (written by commit) overrides the record's: a commit only adds an index entry.
   */
  find(name: string): SnapshotRecord | undefined {
    const entry = this.entry(name);
    const rec = entry === undefined ? undefined : this.read(entry.id);
    if (!entry || !rec) return undefined;
    return entry.kind ? { ...rec, name: entry.name, kind: entry.kind } : rec;
  }

  private entry(name: string): IndexEntry | undefined {
    let text: string;
    try {
      text = readFileSync(this.indexPath(name), "utf8");
    } catch (err) {
      if (isCode(err, "ENOENT")) return undefined;
      throw err;
    }
    if (text === "") return undefined; // a fresh link being written (see link)
    const entry = JSON.parse(text) as IndexEntry;
    return entry.name === name ? entry : undefined;
  }

  read(id: string): SnapshotRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.idDir(id), "info.json"), "utf8")) as SnapshotRecord;
    } catch (err) {
      if (isCode(err, "ENOENT") || isCode(err, "ENOTDIR")) return undefined;
      throw err;
    }
  }

  /**
   * Adds `name → id` unless `name` is taken; returns false when another entry won. `kind`
   * overrides the record's kind for this name. One exclusive create (O_EXCL: the first writer
   * wins) instead of a temp file, link(2) and unlink: 1 metadata op instead of 3. Readers take
   * the empty file of a create in progress as absent (a small write is seen whole or not at all);
   * an empty entry older than STALE_EMPTY_MS is what a process killed mid-create left, and is
   * replaced.
   */
  link(name: string, id: string, opts: { kind?: SnapshotKind } = {}): boolean {
    const path = this.indexPath(name);
    const data = JSON.stringify(opts.kind ? { name, id, kind: opts.kind } : { name, id }) + "\n";
    for (let retried = false; ; retried = true) {
      try {
        writeFileSync(path, data, { flag: "wx" });
        return true;
      } catch (err) {
        if (!isCode(err, "EEXIST")) throw err;
        if (retried || !removeStaleEmpty(path)) return false;
      }
    }
  }

  /** Removes the entry of `name` if it still points at `id`. */
  unlink(name: string, id: string): void {
    if (this.lookup(name) !== id) return;
    try {
      unlinkSync(this.indexPath(name));
    } catch (err) {
      if (!isCode(err, "ENOENT")) throw err;
    }
  }

  /**
   * Moves a finished directory (holding info.json with `rec.id` unset) into place under a fresh
   * id, retrying on the rare id collision. Returns the id.
   */
  install(tmpDir: string, rec: Omit<SnapshotRecord, "id">): string {
    for (;;) {
      const id = randomHex(4);
      writeFileSync(join(tmpDir, "info.json"), JSON.stringify({ ...rec, id }) + "\n");
      try {
        renameSync(tmpDir, this.idDir(id));
        return id;
      } catch (err) {
        if (!isCode(err, "EEXIST") && !isCode(err, "ENOTEMPTY")) throw err;
      }
    }
  }

  /** A fresh scratch directory beside the snapshots (same filesystem, so rename works). */
  tempDir(): string {
    const dir = this.tempDirName();
    mkdirSync(dir);
    return dir;
  }

  /** A name for a scratch directory: `.tmp-<pid>-<random>` (housekeeping matches the pid). */
  tempDirName(): string {
    return join(this.dir, `.tmp-${process.pid}-${randomHex(6)}`);
  }

  /** Records whose parent is `id` (snapshots being removed are already out of sight). */
  children(id: string): SnapshotRecord[] {
    const out: SnapshotRecord[] = [];
    for (const e of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{8}$/.test(e)) continue;
      const rec = this.read(e);
      if (rec && rec.ancestors[rec.ancestors.length - 1] === id) out.push(rec);
    }
    return out;
  }

  /** Renames the directory of `id` out of sight, then deletes it. */
  async destroy(id: string): Promise<void> {
    const trash = join(this.dir, `.trash-${id}-${randomHex(4)}`);
    try {
      renameSync(this.idDir(id), trash);
    } catch (err) {
      if (isCode(err, "ENOENT")) return;
      throw err;
    }
    await rm(trash, { recursive: true, force: true });
  }

  private indexPath(name: string): string {
    return join(this.indexDir, sha256Hex(name));
  }
}

export function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}

/** How old an empty index entry must be to count as left by a killed process. */
const STALE_EMPTY_MS = 10_000;

function removeStaleEmpty(path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st || st.size > 0 || Date.now() - st.mtimeMs < STALE_EMPTY_MS) return false;
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isCode(err, "ENOENT")) throw err;
  }
  return true;
}
