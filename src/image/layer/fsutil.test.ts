import { test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsUtil, fsutilPath } from "./fsutil.js";
import { major, minor } from "./tar-entry.js";

test("fsutil: one process serves many commands; errors are per command", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-fsutil-"));
  const fsutil = new FsUtil();
  try {
    const odd = join(dir, "new\nline dir");
    mkdirSync(odd);
    writeFileSync(join(odd, "f"), "x");
    symlinkSync("/nonexistent", join(dir, "link"));
    const binary = Buffer.from([0x00, 0xff, 0x80, 0x0a, 0x3d]);
    await fsutil.setxattr(join(odd, "f"), "user.test", binary);
    await fsutil.setxattr(odd, "trusted.overlay.opaque", Buffer.from("y"));
    await assert.rejects(fsutil.setxattr(join(dir, "missing"), "user.x", Buffer.from("1")), {
      code: "layer/fsutil-failed",
      message: /missing/,
    });
    await fsutil.mknod(join(dir, "dev"), 0o020600, 259, 300);
    await fsutil.mknodWhiteout(join(dir, "wh"));
    const records = await fsutil.lxattrs(dir);
    assert.deepEqual(
      records.map((r) => [r.path, r.name, r.value.toString("hex")]).sort(),
      [
        ["new\nline dir", "trusted.overlay.opaque", "79"],
        ["new\nline dir/f", "user.test", binary.toString("hex")],
      ],
    );
    const dev = lstatSync(join(dir, "dev"));
    assert.ok(dev.isCharacterDevice());
    assert.deepEqual([major(dev.rdev), minor(dev.rdev)], [259, 300]);
    const wh = lstatSync(join(dir, "wh"));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
  } finally {
    await fsutil.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fsutil: TSBUILD_FSUTIL_PATH overrides the lookup, and a missing binary is a clear error", async () => {
  assert.equal(fsutilPath({ TSBUILD_FSUTIL_PATH: "/opt/x/fsutil" }), "/opt/x/fsutil");
  assert.match(fsutilPath({}), /native\/build\/tsbuild-fsutil$/);
  const broken = new FsUtil("/nonexistent/tsbuild-fsutil");
  await assert.rejects(broken.lxattrs("/"), { code: "ENOENT" });
  await broken.close();
});
