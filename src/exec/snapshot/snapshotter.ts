/**
 * The snapshotter over the on-disk store: overlay (layers stacked by the kernel, the upper dir is
 * the diff) or copy (every snapshot a full tree; the diff against the parent is computed on
 * commit). See types.ts for the contract and store.ts for the layout.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { writeFileAtomic } from "../../internal/atomic-write.js";
import { ROOT_DIRS } from "../../internal/root.js";
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Mount } from "../types.js";
import { applyDiff } from "./apply-diff.js";
import { makeWhiteouts } from "./command.js";
import { SnapshotError } from "./errors.js";
import { copyRootMount, layerPath, overlayRootMount, overlayViewMount } from "./mounts.js";
import { overlaySupported } from "./probe.js";
import { SnapshotStore, type SnapshotRecord } from "./store.js";
import { ensureStubLayer } from "./stub-layer.js";
import { copyEntries, copyTree } from "./tree-copy.js";
import { diffTrees } from "./tree-diff.js";
import type { PreparedSnapshot, PrepareOptions, SnapshotDriver, SnapshotInfo, Snapshotter, SnapshotterOptions } from "./types.js";

/** Opens (creating if needed) the snapshots of `options.root`. */
export async function createSnapshotter(options: SnapshotterOptions): Promise<Snapshotter> {
  const wanted = options.driver ?? "auto";
  const driver: SnapshotDriver = wanted === "auto" ? await rootDriver(options.root) : wanted;
  return new StoreSnapshotter(new SnapshotStore(options.root), driver);
}

/**
 * The driver a root uses, probed once and recorded in `<root>/snapshots/driver`: every later
 * process skips the probe (four process spawns), and all of them agree on one driver.
 */
async function rootDriver(root: string): Promise<SnapshotDriver> {
  const file = join(root, ROOT_DIRS.snapshots, "driver");
  try {
    const recorded = readFileSync(file, "utf8").trim();
    if (recorded === "overlay" || recorded === "copy") return recorded;
  } catch {
    // not probed yet
  }
  const driver: SnapshotDriver = (await overlaySupported(root)) ? "overlay" : "copy";
  writeFileAtomic(file, driver + "\n");
  return driver;
}

/** Spare scratch dirs made ahead (see takeScratch), removed when the process exits. */
const spares = new Set<string>();
process.once("exit", () => {
  for (const dir of spares) rmSync(dir, { recursive: true, force: true });
});

/** Read once: a umask that keeps 0755 saves a chmod per prepare. */
const UMASK = readUmask();

function readUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}

class StoreSnapshotter implements Snapshotter {
  constructor(
    private readonly store: SnapshotStore,
    readonly driver: SnapshotDriver,
  ) {}

  async prepare(key: string, parent?: string, options: PrepareOptions = {}): Promise<PreparedSnapshot> {
    if (this.store.lookup(key) !== undefined) throw new SnapshotError("already-exists", `snapshot ${key}: already exists`);
    const parentRec = parent === undefined ? undefined : this.committed(parent);
    const tmp = await this.takeScratch(options.makeNextAhead === true);
    try {
      if (this.driver === "copy" && parentRec) await copyTree(this.fsDir(parentRec.id), join(tmp, "fs"));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    const ancestors = parentRec ? [...parentRec.ancestors, parentRec.id] : [];
    const id = this.store.install(tmp, { name: key, kind: "active", driver: this.driver, parent, ancestors, createdAt: Date.now() });
    await this.publish(key, id, parent, parentRec);
    const dir = this.fsDir(id);
    const ahead = options.makeNextAhead ? { ahead: this.spare!.then(() => {}) } : {};
    if (this.driver === "copy") return { key, root: copyRootMount(this.store.dir, id, false), dir, ...ahead };
    const bottom = options.sandboxMountPoints && ancestors.length > 0 ? ensureStubLayer(this.store.dir) : undefined;
    return { key, root: overlayRootMount(this.store.dir, id, ancestors, bottom), dir, upperDir: dir, ...ahead };
  }

  /**
   * An empty snapshot dir (`fs/` 0755, overlay: `work/`) under a temporary name: the spare made
   * ahead by the previous prepare, if any. With `ahead`, the next one is made in the background
   * while the caller's RUN runs: its three mkdirs (0.1-0.5 ms each on a busy disk) leave the
   * critical path. Spares are removed at exit; housekeeping removes a killed build's
   * (`.tmp-<pid>-*`).
   */
  private async takeScratch(ahead: boolean): Promise<string> {
    const spare = this.spare;
    this.spare = ahead
      ? this.makeScratch().then(
          (dir) => (spares.add(dir), dir),
          () => undefined,
        )
      : undefined;
    const dir = await spare;
    if (dir !== undefined) spares.delete(dir);
    return dir !== undefined && existsSync(dir) ? dir : this.makeScratch();
  }

  private spare: Promise<string | undefined> | undefined;

  private async makeScratch(): Promise<string> {
    const tmp = this.store.tempDirName();
    await mkdir(tmp);
    try {
      await mkdir(join(tmp, "fs"), { mode: 0o755 });
      if (UMASK & 0o755) await chmod(join(tmp, "fs"), 0o755);
      if (this.driver === "overlay") await mkdir(join(tmp, "work"));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return tmp;
  }

  async commit(name: string, key: string): Promise<void> {
    const rec = this.store.find(key);
    if (!rec || rec.kind !== "active") throw new SnapshotError("not-found", `committing ${key}: no active snapshot with that key`);
    if (this.store.lookup(name) !== undefined) return this.discard(key, rec.id);
    if (this.driver === "copy" && rec.ancestors.length > 0) await this.writeCopyDiff(rec);
    // Key first: if this process dies in between, the snapshot is unreachable (a leak) rather than
    // reachable under a dead run's key, where housekeeping would remove it as an orphan.
    this.store.unlink(key, rec.id);
    // Another process may commit the same name at the same moment: the first link wins.
    if (!this.store.link(name, rec.id, { kind: "committed" })) await this.store.destroy(rec.id);
  }

  async view(name: string): Promise<Mount> {
    const rec = this.committed(name);
    if (this.driver === "copy") return copyRootMount(this.store.dir, rec.id, true);
    return overlayViewMount(this.store.dir, [...rec.ancestors, rec.id]);
  }

  async remove(keyOrName: string): Promise<void> {
    const rec = this.store.find(keyOrName);
    if (!rec) throw new SnapshotError("not-found", `removing ${keyOrName}: no such snapshot`);
    const id = rec.id;
    this.store.unlink(keyOrName, id);
    // Unlink first, then look for children: a concurrent prepare either shows up here or sees
    // its parent gone (see publish), so no child is left without its parent.
    if (rec.kind === "committed" && this.store.children(id).length > 0) {
      this.store.link(keyOrName, id, { kind: rec.kind });
      throw new SnapshotError("failed-precondition", `removing ${keyOrName}: snapshot has children`);
    }
    await this.store.destroy(id);
  }

  async stat(keyOrName: string): Promise<SnapshotInfo | undefined> {
    const rec = this.store.find(keyOrName);
    if (!rec) return undefined;
    return { kind: rec.kind, createdAt: rec.createdAt, ...(rec.parent === undefined ? {} : { parent: rec.parent }) };
  }

  async chain(name: string): Promise<string[]> {
    const rec = this.committed(name);
    return [...rec.ancestors, rec.id].map((id, i) => this.layerDir(id, i > 0));
  }

  async diffDir(name: string): Promise<string> {
    const rec = this.committed(name);
    return this.layerDir(rec.id, rec.ancestors.length > 0);
  }

  async importDir(name: string, dir: string, parent?: string): Promise<void> {
    if (this.store.lookup(name) !== undefined) return;
    const parentRec = parent === undefined ? undefined : this.committed(parent);
    const tmp = this.store.tempDir();
    try {
      if (this.driver === "copy" && parentRec) {
        mkdirSync(join(tmp, "fs"));
        await copyTree(this.fsDir(parentRec.id), join(tmp, "fs"));
        await applyDiff(dir, join(tmp, "fs"), tmp);
        renameSync(dir, join(tmp, "diff"));
      } else {
        renameSync(dir, join(tmp, "fs"));
      }
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    const ancestors = parentRec ? [...parentRec.ancestors, parentRec.id] : [];
    const id = this.store.install(tmp, { name, kind: "committed", driver: this.driver, parent, ancestors, createdAt: Date.now() });
    if (!this.store.link(name, id)) return this.store.destroy(id);
    await this.checkParent(name, id, parent, parentRec);
  }

  /** Makes the installed snapshot `id` visible as `name`, or cleans it up. */
  private async publish(name: string, id: string, parent?: string, parentRec?: SnapshotRecord): Promise<void> {
    if (!this.store.link(name, id)) {
      await this.store.destroy(id);
      throw new SnapshotError("already-exists", `snapshot ${name}: already exists`);
    }
    await this.checkParent(name, id, parent, parentRec);
  }

  /** After linking a child: its parent must still be there (it may have been removed meanwhile). */
  private async checkParent(name: string, id: string, parent?: string, parentRec?: SnapshotRecord): Promise<void> {
    if (parent === undefined || this.store.lookup(parent) === parentRec?.id) return;
    this.store.unlink(name, id);
    await this.store.destroy(id);
    throw new SnapshotError("not-found", `snapshot ${name}: parent ${parent} was removed`);
  }

  private async discard(key: string, id: string): Promise<void> {
    this.store.unlink(key, id);
    await this.store.destroy(id);
  }

  private committed(name: string): SnapshotRecord {
    const rec = this.store.find(name);
    if (!rec) throw new SnapshotError("not-found", `snapshot ${name}: not found`);
    if (rec.kind !== "committed") throw new SnapshotError("invalid-argument", `snapshot ${name}: is active, not committed`);
    return rec;
  }

  private fsDir(id: string): string {
    return join(this.store.dir, layerPath(id));
  }

  /** Overlay: the upper dir. Copy: the computed diff, or the whole tree for a base snapshot. */
  private layerDir(id: string, hasParent: boolean): string {
    return this.driver === "copy" && hasParent ? join(this.store.idDir(id), "diff") : this.fsDir(id);
  }

  /** Copy driver: writes `<id>/diff`, the child's changes against its parent in overlay format. */
  private async writeCopyDiff(rec: SnapshotRecord): Promise<void> {
    const parentId = rec.ancestors[rec.ancestors.length - 1]!;
    const changes = diffTrees(this.fsDir(parentId), this.fsDir(rec.id));
    const tmp = join(this.store.idDir(rec.id), "diff.tmp");
    await rm(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    // Whiteouts first; the tar extraction afterwards sets the directories' final metadata.
    for (const w of changes.whiteouts) mkdirSync(dirname(join(tmp, w)), { recursive: true });
    await makeWhiteouts(changes.whiteouts.map((w) => join(tmp, w)));
    await copyEntries(this.fsDir(rec.id), changes.copy, tmp, this.store.idDir(rec.id));
    await copyEntries(this.fsDir(rec.id), ["."], tmp, this.store.idDir(rec.id)); // root dir metadata
    renameSync(tmp, join(this.store.idDir(rec.id), "diff"));
  }
}
