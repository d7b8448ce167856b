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
