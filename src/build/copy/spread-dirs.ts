/**
 * A hint to ext2/3/4's Orlov allocator for large COPYs: a directory made below one marked
 * "top of a directory hierarchy" (FS_TOPDIR_FL, `chattr +T`) is placed in a block group with
 * room, away from the parent's group. Without a journal, ext4 skips inodes freed in the last
 * 1–6 minutes when it allocates one, and reads past them for every file it creates: after another
 * program deleted 25,000 files, the bench's large-context cold build took 3.2–5.9 s, and
 * 2.1–2.3 s with the copy's directory spread this way (6 runs each). Best effort: other file
 * systems, or no `chattr`, leave everything as it was. The native addon sets the flag itself
 * (the chattr process cost the cold build 35 ms); without the addon chattr is run.
 */
import { fsAddon } from "../../internal/fs-addon.js";
import { spawnSync } from "../../internal/lazy-node.js";

const marked = new Set<string>();

/** Marks `dir` (once per process) so directories created directly below it are spread. */
export function spreadNewDirsBelow(dir: string): void {
  if (marked.has(dir)) return;
  marked.add(dir);
  const addon = fsAddon();
  if (addon) addon.markTopDir(dir);
  else spawnSync("chattr", ["+T", dir], { stdio: "ignore", timeout: 5000 });
}
