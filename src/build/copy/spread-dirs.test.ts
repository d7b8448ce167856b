import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fsAddon } from "../../internal/fs-addon.js";
import { spreadNewDirsBelow } from "./spread-dirs.js";

function attrs(dir: string): string | undefined {
  try {
    return execFileSync("lsattr", ["-d", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split(" ")[0];
  } catch {
    return undefined; // not an ext* file system, or no e2fsprogs
  }
}

test("a large COPY's parent directory is marked for the Orlov allocator (ext4: chattr +T)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-spread-"));
  try {
    const before = attrs(dir);
    if (before === undefined) return t.skip("lsattr does not work on this file system");
    assert.ok(!before.includes("T"), `fresh dir already marked: ${before}`);
    spreadNewDirsBelow(dir);
    assert.ok(attrs(dir)!.includes("T"), `not marked: ${attrs(dir)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("on a file system without the flag the hint is a no-op, not an error", () => {
  assert.doesNotThrow(() => spreadNewDirsBelow("/proc/self"));
});

test("the native addon sets the flag itself, and says when it cannot", (t) => {
  const addon = fsAddon();
  if (!addon) return t.skip("native addon not built");
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-spread-"));
  try {
    if (attrs(dir) === undefined) return t.skip("lsattr does not work on this file system");
    assert.equal(addon.markTopDir(dir), true);
    assert.ok(attrs(dir)!.includes("T"), `not marked: ${attrs(dir)}`);
    assert.equal(addon.markTopDir("/proc/self"), false);
    assert.equal(addon.markTopDir(join(dir, "missing")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
