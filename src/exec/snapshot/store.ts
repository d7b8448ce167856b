/**
 * On-disk metadata of the snapshotter. Layout under `<root>/snapshots`:
 *
 *   index/<sha256(key or name)>   {"name": …, "id": …}: created with link(2), so the first
 *                                 writer wins and readers never see a half-written entry
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
import { createHash, randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../internal/atomic-write.js";
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
    try {
      const entry = JSON.parse(readFileSync(this.indexPath(name), "utf8")) as { name: string; id: string };
      return entry.name === name ? entry.id : undefined;
    } catch (err) {
      if (isCode(err, "ENOENT")) return undefined;
      throw err;
    }
  }

  /** Looks up `name` and reads its record; undefined when either is missing. */
  find(name: string): SnapshotRecord | undefined {
    const id = this.lookup(name);
    return id === undefined ? undefined : this.read(id);
  }

  read(id: string): SnapshotRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.idDir(id), "info.json"), "utf8")) as SnapshotRecord;
    } catch (err) {
      if (isCode(err, "ENOENT") || isCode(err, "ENOTDIR")) return undefined;
      throw err;
    }
  }

  write(rec: SnapshotRecord): void {
    writeFileAtomic(join(this.idDir(rec.id), "info.json"), JSON.stringify(rec) + "\n");
  }

  /** Adds `name → id` unless `name` is taken; returns false when another entry won. */
  link(name: string, id: string): boolean {
    const tmp = join(this.indexDir, `.tmp-${randomBytes(6).toString("hex")}`);
    writeFileSync(tmp, JSON.stringify({ name, id }) + "\n");
    try {
      linkSync(tmp, this.indexPath(name));
      return true;
    } catch (err) {
      if (isCode(err, "EEXIST")) return false;
      throw err;
    } finally {
      unlinkSync(tmp);
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
      const id = randomBytes(4).toString("hex");
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
    const dir = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    mkdirSync(dir);
    return dir;
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
    const trash = join(this.dir, `.trash-${id}-${randomBytes(4).toString("hex")}`);
    try {
      renameSync(this.idDir(id), trash);
    } catch (err) {
      if (isCode(err, "ENOENT")) return;
      throw err;
    }
    await rm(trash, { recursive: true, force: true });
  }

  private indexPath(name: string): string {
    return join(this.indexDir, createHash("sha256").update(name).digest("hex"));
  }
}

export function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}
