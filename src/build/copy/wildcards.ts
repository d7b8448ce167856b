/**
 * Wildcard sources (`COPY *.txt /dst/`): the path is split at its first component holding
 * a wildcard; the part before is resolved in the root, the rest is matched with Go's
 * `filepath.Match` against paths below it. A matching directory is taken whole.
 */
import { readdir } from "./fs-sync.js";
import { join } from "node:path";
import { filepathMatch } from "../../parser/dockerignore/index.js";

/** Whether a path component holds `*`, `?` or `[` (a `\` escapes the next character). */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === "\\") i++;
    else if (ch === "*" || ch === "?" || ch === "[") return true;
  }
  return false;
}

/** Splits a clean absolute path into the part before the first wildcard component and the rest. */
export function splitWildcards(p: string): { base: string; pattern: string } {
  const parts = p.split("/").filter((s) => s !== "");
  const idx = parts.findIndex(containsWildcards);
  if (idx < 0) return { base: "/" + parts.join("/"), pattern: "" };
  return { base: "/" + parts.slice(0, idx).join("/"), pattern: parts.slice(idx).join("/") };
}

/**
 * Paths below `baseDir` (relative, slash-separated, in lexical walk order) that match `pattern`.
 * Symlinks are not followed while walking; a matched directory is not descended into.
 */
export async function matchWildcard(baseDir: string, pattern: string): Promise<string[]> {
  const depth = pattern.split("/").length;
  const out: string[] = [];
  const walk = async (rel: string, level: number): Promise<void> => {
    const entries = await readdir(rel === "" ? baseDir : join(baseDir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (filepathMatch(pattern, child)) {
        out.push(child);
        continue;
      }
      // `*` and `?` never match `/`, so a match has exactly as many components as the pattern.
      if (e.isDirectory() && level + 1 < depth) await walk(child, level + 1);
    }
  };
  await walk("", 0);
  return out;
}
