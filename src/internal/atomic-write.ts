import { mkdirSync, renameSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { randomHex } from "./random-hex.js";

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one:
 * write to a temporary sibling, fsync is left to the kernel, then rename over the target.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomHex(4)}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
