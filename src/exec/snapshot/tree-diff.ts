/**
 * The copy driver's differ: walks a parent tree and a child tree (the child started as a copy
 * of the parent, so unchanged entries keep their metadata) and lists what the child changed, in
 * overlay terms: entries to copy into the diff (parents before children) and deleted paths that
 * become whiteouts.
 */
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from "node:fs";
import { join } from "node:path";

export interface TreeChanges {
  /** Paths relative to the child root, each parent before its children. */
  copy: string[];
  /** Paths deleted in the child, relative to the root. */
  whiteouts: string[];
}

export function diffTrees(lower: string, upper: string): TreeChanges {
  const out: TreeChanges = { copy: [], whiteouts: [] };
  walk(lower, upper, "", [], out);
  return out;
}

/** `pending` (shared down the recursion) holds unchanged ancestor dirs, emitted before the first change below them. */
function walk(lower: string, upper: string, rel: string, pending: string[], out: TreeChanges): void {
  const upperNames = new Set(readdirSync(join(upper, rel)));
  const flush = () => {
    out.copy.push(...pending);
    pending.length = 0;
  };
  for (const name of readdirSync(join(lower, rel)).sort()) {
    if (upperNames.has(name)) continue;
    flush();
    out.whiteouts.push(join(rel, name));
  }
  for (const name of [...upperNames].sort()) {
    const path = join(rel, name);
    const u = lstatSync(join(upper, path), { bigint: true });
    const l = lstatSync(join(lower, path), { bigint: true, throwIfNoEntry: false });
    if (!l || fileType(l) !== fileType(u)) {
      flush();
      addSubtree(upper, path, u, out);
    } else if (u.isDirectory()) {
      if (sameMeta(l, u)) {
        pending.push(path);
        walk(lower, upper, path, pending, out);
        if (pending[pending.length - 1] === path) pending.pop(); // nothing changed below
      } else {
        flush();
        out.copy.push(path);
        walk(lower, upper, path, pending, out);
      }
    } else if (!sameMeta(l, u) || (u.isSymbolicLink() && readlinkSync(join(lower, path)) !== readlinkSync(join(upper, path)))) {
      flush();
      out.copy.push(path);
    }
  }
}

function addSubtree(root: string, path: string, st: BigIntStats, out: TreeChanges): void {
  out.copy.push(path);
  if (!st.isDirectory()) return;
  for (const name of readdirSync(join(root, path)).sort()) {
    const child = join(path, name);
    addSubtree(root, child, lstatSync(join(root, child), { bigint: true }), out);
  }
}

function fileType(st: BigIntStats): bigint {
  return st.mode & 0o170000n;
}

function sameMeta(a: BigIntStats, b: BigIntStats): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return false;
  if (a.isDirectory()) return a.mtimeNs === b.mtimeNs;
  return a.size === b.size && a.mtimeNs === b.mtimeNs;
}
