import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fsAddon } from "./fs-addon.js";

// The addon is built at install from Node's own headers; where they exist it must have been built.
const headersInstalled = existsSync(join(dirname(process.execPath), "..", "include", "node", "node_api.h"));

test("the native filesystem addon is built wherever Node's headers are installed", { skip: (process.platform !== "linux" || !headersInstalled) && "no headers to build it from: the JavaScript paths are used" }, () => {
  assert.ok(fsAddon(), "native/build/tsbuild-fsaddon.node is missing or does not load: run node scripts/build-native.mjs");
});

test("read-ahead skips paths it cannot open and leaves the files as they were", { skip: !fsAddon() && "addon not built" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-prefetch-"));
  try {
    writeFileSync(join(dir, "a"), "alpha");
    writeFileSync(join(dir, "b"), "");
    const paths = [join(dir, "missing"), join(dir, "a"), dir, "", join(dir, "b"), join(dir, "a", "not-a-dir")];
    fsAddon()!.prefetch(paths.join("\0"));
    fsAddon()!.prefetch("");
    await new Promise((r) => setTimeout(r, 50)); // the thread runs detached; give it time to trip over anything
    assert.ok(existsSync(join(dir, "a")));
    assert.throws(() => fsAddon()!.prefetch(42 as unknown as string), TypeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
