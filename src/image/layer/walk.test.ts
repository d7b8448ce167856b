import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fsAddon } from "../../internal/fs-addon.js";
import { walkTree, type WalkEntry } from "./walk.js";

const addon = fsAddon();
const isRoot = process.getuid?.() === 0;

/** Every member the layer writer reads, as plain values. */
function view(entries: Iterable<WalkEntry>) {
  return [...entries].map(({ rel, abs, stat: s }) => ({
    rel,
    abs,
    fields: [s.mode, s.uid, s.gid, s.size, s.nlink, s.dev, s.ino, s.rdev, s.mtimeMs, Math.floor(s.mtimeMs / 1000)],
    kinds: [s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.isFIFO(), s.isCharacterDevice(), s.isBlockDevice()],
  }));
}

test("the layer walk reads the same tree through the native lister as through lstat", { skip: !addon && "addon not built" }, () => {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-walk-"));
  try {
    mkdirSync(join(root, "d/e"), { recursive: true });
    writeFileSync(join(root, "d/e/f"), "content");
    writeFileSync(join(root, "B"), "");
    writeFileSync(join(root, "a b"), "x".repeat(5000));
    linkSync(join(root, "a b"), join(root, "d/hard"));
    symlinkSync("d/e/f", join(root, "link"));
    execFileSync("mkfifo", [join(root, "fifo")]);
    if (isRoot) {
      execFileSync("mknod", [join(root, "chr"), "c", "1", "3"]);
      execFileSync("mknod", [join(root, "blk"), "b", "259", "70000"]); // a minor above 255: the split dev_t encoding
      execFileSync("mknod", [join(root, "wh"), "c", "0", "0"]); // an overlay whiteout
      chownSync(join(root, "B"), 1000, 2000);
    }
    chmodSync(join(root, "d"), 0o2750);
    // An mtime just below a whole second: its floor must not round up to the next one.
    utimesSync(join(root, "B"), 1_700_000_000.999, 1_700_000_000.999999);
    const native = view(walkTree(root, addon));
    assert.deepEqual(native, view(walkTree(root, undefined)));
    assert.deepEqual(native.map((e) => e.rel), [
      "B", "a b", ...(isRoot ? ["blk", "chr"] : []), "d", "d/e", "d/e/f", "d/hard", "fifo", "link", ...(isRoot ? ["wh"] : []),
    ]);
    assert.equal(native.find((e) => e.rel === "B")!.fields[9], 1_700_000_000);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
