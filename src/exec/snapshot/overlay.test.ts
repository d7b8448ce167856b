import { test } from "node:test";
import assert from "node:assert/strict";
import { createSnapshotter } from "./snapshotter.js";
import { overlaySupported } from "./probe.js";
import { snapshotterSuite } from "./testsuite.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const probeRoot = mkdtempSync(join(tmpdir(), "tsbuild-probe-"));
const supported = process.getuid?.() === 0 && (await overlaySupported(probeRoot));
rmSync(probeRoot, { recursive: true, force: true });

snapshotterSuite("overlay", (root) => createSnapshotter({ root, driver: "overlay" }), {
  ...(supported ? {} : { skip: "overlay mounts need root and overlayfs" }),
});

test("auto driver picks overlay where overlay mounts work; the root mount is overlay over the parent", { skip: supported ? false : "overlay unsupported" }, async () => {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-auto-"));
  try {
    const s = await createSnapshotter({ root });
    assert.equal(s.driver, "overlay");
    await s.prepare("a");
    await s.commit("base", "a");
    const p = await s.prepare("b", "base");
    assert.equal(p.root.type, "overlay");
    assert.equal(p.root.cwd, join(root, "snapshots"));
    assert.ok(p.root.options.every((o) => !o.includes(root)), "layer paths are relative to cwd");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
