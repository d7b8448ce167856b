/** Test helper: temp directories filled from a spec, removed by the caller. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A spec value: file content, `{ link }` for a symlink, or `null` for an empty directory. */
export type Spec = Record<string, string | { link: string } | null>;

export function makeDir(spec: Spec, prefix = "tsbuild-copy-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  fill(dir, spec);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function fill(dir: string, spec: Spec): void {
  for (const [rel, value] of Object.entries(spec)) {
    const p = join(dir, rel);
    if (value === null) {
      mkdirSync(p, { recursive: true });
      continue;
    }
    mkdirSync(dirname(p), { recursive: true });
    if (typeof value === "string") writeFileSync(p, value);
    else symlinkSync(value.link, p);
  }
}
