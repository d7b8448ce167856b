/** As an unprivileged user a build stops at once with a message that says what is missing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./fixtures/build-once.ts", import.meta.url));
const skip = process.getuid?.() !== 0 || spawnSync("setpriv", ["--version"]).status !== 0 ? "needs root and setpriv to drop to nobody" : undefined;

test("a build as nobody fails with the needs-root message, not a stray EPERM", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-unpriv-"));
  try {
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY Dockerfile /\n");
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", CHILD, join(dir, "root"), dir, join(dir, "out.tar")], {
      encoding: "utf8",
      env: { ...process.env, HOME: dir },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /tsbuild builds need root/);
    assert.match(r.stderr, /Rootless builds .* are not supported yet/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
