import { test } from "node:test";
import assert from "node:assert/strict";
import { createSnapshotter } from "./snapshotter.js";
import { overlaySupported } from "./probe.js";
import { snapshotterSuite } from "./testsuite.js";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { shellInMounts } from "./testing.js";
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

test("sandboxMountPoints: empty mount points under the layers where the image lacks them; the image's own win", { skip: supported ? false : "overlay unsupported" }, async () => {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-stubs-"));
  try {
    const s = await createSnapshotter({ root, driver: "overlay" });
    const a = await s.prepare("a");
    mkdirSync(join(a.dir, "etc"));
    writeFileSync(join(a.dir, "etc", "resolv.conf"), "nameserver 10.0.0.1\n");
    await s.commit("base", "a");
    const p = await s.prepare("b", "base", { sandboxMountPoints: true });
    const out = await shellInMounts([p.root], 'cd "$M"; for f in proc sys dev etc/hosts; do [ -e "$f" ] && echo "$f"; done; cat etc/resolv.conf; ls -ld etc/hosts | cut -c1-10');
    assert.equal(out, "proc\nsys\ndev\netc/hosts\nnameserver 10.0.0.1\n-rw-r--r--\n");
    assert.deepEqual(readdirSync(p.dir), [], "nothing lands in the upper dir");
    const plain = await s.prepare("c", "base");
    assert.equal(await shellInMounts([plain.root], 'ls "$M"'), "etc\n", "without the option the root is the layers only");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
