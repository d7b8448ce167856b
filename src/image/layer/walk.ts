/**
 * A synchronous tree walk in layer order: depth first, each directory before its contents, names
 * sorted by their bytes (what Go's filepath.Walk gives containerd, so layers match BuildKit's).
 * Synchronous on purpose: it is several times faster than the promise APIs (dependencies notes §4).
 */
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { sortByteOrder } from "../../internal/byte-order.js";

export interface WalkEntry {
  /** Path relative to the root, "/"-separated, no leading "./". */
  rel: string;
  abs: string;
  stat: Stats;
}

export function* walkTree(root: string): Generator<WalkEntry> {
  yield* walkDir(root, "");
}

function* walkDir(absDir: string, relDir: string): Generator<WalkEntry> {
  const names = sortByteOrder(readdirSync(absDir));
  for (const name of names) {
    const abs = join(absDir, name);
    const rel = relDir === "" ? name : `${relDir}/${name}`;
    const stat = lstatSync(abs);
    yield { rel, abs, stat };
    if (stat.isDirectory()) yield* walkDir(abs, rel);
  }
}
