/**
 * Applies a layer directory in overlay format onto a full tree (the copy driver's importDir):
 * whiteouts delete, opaque directories replace, everything else is copied over.
 */
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { copyEntries } from "./tree-copy.js";
import { findOpaqueDirs } from "./xattr.js";

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export async function applyDiff(diff: string, target: string, scratchDir: string): Promise<void> {
  const opaque = await findOpaqueDirs(diff);
  const copy: string[] = [];
  const removals: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(diff, rel)).sort()) {
      const path = join(rel, name);
      const st = lstatSync(join(diff, path));
      const existing = lstatSync(join(target, path), { throwIfNoEntry: false });
      if (isWhiteout(st)) {
        removals.push(path);
        continue;
      }
      const replace = existing && (!st.isDirectory() || !existing.isDirectory() || opaque.has(path));
      if (replace) removals.push(path);
      copy.push(path);
      if (st.isDirectory()) walk(path);
    }
  };
  walk("");
  for (const path of removals) await rm(join(target, path), { recursive: true, force: true });
  await copyEntries(diff, copy, target, scratchDir);
}
