/**
 * The snapshotter contract, in containerd's vocabulary: an *active* snapshot is addressed by a
 * `key` and is writable; a *committed* snapshot is addressed by a `name`, is immutable, and can be
 * the parent of new snapshots. Snapshotters return mounts as data; the native helper performs them.
 *
 * A RUN step, end to end:
 *
 *   const s = await snapshotter.prepare("run-42", "sha256:parent…");   // writable root
 *   await executor.run({ root: s.root, mounts: [], spec }, io);        // helper mounts s.root at /
 *   await snapshotter.commit("sha256:cachekey…", "run-42");            // now immutable, a parent
 *   const layerDir = await snapshotter.diffDir("sha256:cachekey…");    // overlay-format changes
 */
import type { Mount } from "../types.js";

export type SnapshotDriver = "overlay" | "copy";
export type SnapshotKind = "active" | "committed";

export interface SnapshotterOptions {
  /** The tsbuild root (see src/internal/root.ts); snapshots live under `<root>/snapshots`. */
  root: string;
  /** "auto" (default) probes once whether overlay mounts work under root, else uses "copy". */
  driver?: SnapshotDriver | "auto";
}

/** A writable snapshot made by `prepare`. */
export interface PreparedSnapshot {
  key: string;
  /** The root filesystem mount, target "/". */
  root: Mount;
  /**
   * The directory where the snapshot's writes land: the overlay upper dir (changes only), or for
   * the copy driver the full root tree. Mount-point stubs are cleaned here after a RUN.
   */
  dir: string;
  /** The overlay upper dir (same as `dir`); undefined for the copy driver. */
  upperDir?: string;
  /** With `makeNextAhead`: settles once the directory made ahead is ready (never rejects). */
  ahead?: Promise<void>;
}

export interface PrepareOptions {
  /**
   * For a root the sandbox mounts: where the layers lack the sandbox's own mount points (/proc,
   * /sys, /dev, /etc/hosts, /etc/resolv.conf), the root shows empty ones from a shared layer
   * under all others (overlay with a parent only), so the sandbox need not create them in `dir`.
   */
  sandboxMountPoints?: boolean;
  /**
   * The caller will prepare again soon (a build's RUN steps): start making the next snapshot's
   * empty directory now, in the background. Await `PreparedSnapshot.ahead` before the root may
   * be removed.
   */
  makeNextAhead?: boolean;
}

export interface SnapshotInfo {
  kind: SnapshotKind;
  /** Name of the committed parent, if any. */
  parent?: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/**
 * Keys and names share one namespace. Every method is safe to call from several processes on
 * one root at the same time; all state is on disk.
 */
export interface Snapshotter {
  readonly driver: SnapshotDriver;
  /** Creates the active snapshot `key` on top of the committed `parent` (or empty). */
  prepare(key: string, parent?: string, options?: PrepareOptions): Promise<PreparedSnapshot>;
  /** Turns active `key` into committed `name`; consumes `key`. Committing an existing name is a no-op. */
  commit(name: string, key: string): Promise<void>;
  /** A read-only mount (target "/") of the committed `name` with all its parents. */
  view(name: string): Promise<Mount>;
  /** Removes an active or committed snapshot; a committed one with children cannot be removed. */
  remove(keyOrName: string): Promise<void>;
  stat(keyOrName: string): Promise<SnapshotInfo | undefined>;
  /** The layer directories (overlay format) of committed `name` and its parents, oldest first. */
  chain(name: string): Promise<string[]>;
  /** The directory holding only the changes of committed `name`, in overlay format. */
  diffDir(name: string): Promise<string>;
  /**
   * Registers `dir` (an extracted layer in overlay format: whiteouts as 0/0 character devices,
   * opaque dirs by the trusted.overlay.opaque xattr) as committed `name` on top of `parent`, by
   * renaming it in. `dir` must be on the same filesystem as the root. No-op if `name` exists.
   */
  importDir(name: string, dir: string, parent?: string): Promise<void>;
}
