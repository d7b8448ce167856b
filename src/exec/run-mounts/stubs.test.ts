import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupMountStubs, mountStubPaths } from "./stubs.js";

test("mountStubPaths: missing targets and parents in a layer stack; whiteouts hide lower entries", { skip: process.getuid?.() === 0 ? false : "mknod needs root" }, () => {
  const base = mkdtempSync(join(tmpdir(), "tsbuild-stubs-"));
  try {
    const [upper, lower] = [join(base, "upper"), join(base, "lower")];
    mkdirSync(join(lower, "run"), { recursive: true });
    mkdirSync(join(lower, "gone"), { recursive: true });
    mkdirSync(join(upper, "etc"), { recursive: true });
    execFileSync("mknod", [join(upper, "gone"), "c", "0", "0"]);
    const paths = mountStubPaths([upper, lower], ["/run/secrets/token", "/etc", "/gone/x", "/run/secrets/other"]);
    assert.deepEqual(paths.sort(), ["/gone", "/gone/x", "/run/secrets", "/run/secrets/other", "/run/secrets/token"]);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("cleanupMountStubs: removes empty stubs deepest first, keeps written ones, restores parent times", () => {
  const upper = mkdtempSync(join(tmpdir(), "tsbuild-stubs-"));
  try {
    mkdirSync(join(upper, "run", "secrets"), { recursive: true });
    writeFileSync(join(upper, "run", "secrets", "token"), "");
    mkdirSync(join(upper, "cache"));
    writeFileSync(join(upper, "cache", "written-by-run"), "data");
    mkdirSync(join(upper, "tmpfs-target"));
    const old = new Date("2020-01-02T03:04:05Z");
    utimesSync(upper, old, old);
    const removed = cleanupMountStubs(upper, ["/run", "/run/secrets", "/run/secrets/token", "/cache", "/tmpfs-target", "/never-created"]);
    assert.deepEqual(removed, ["/run/secrets/token", "/run/secrets", "/tmpfs-target", "/run"]);
    assert.ok(!existsSync(join(upper, "run")));
    assert.ok(existsSync(join(upper, "cache", "written-by-run")), "non-empty paths stay");
    assert.equal(statSync(upper).mtime.getTime(), old.getTime(), "the parent's mtime is restored");
  } finally {
    rmSync(upper, { recursive: true, force: true });
  }
});
