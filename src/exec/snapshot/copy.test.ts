import { createSnapshotter } from "./snapshotter.js";
import { snapshotterSuite } from "./testsuite.js";

snapshotterSuite("copy", (root) => createSnapshotter({ root, driver: "copy" }), {
  ...(process.getuid?.() === 0 ? {} : { skip: "the suite mounts in a mount namespace: needs root" }),
});
