import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, lstatSync, readlinkSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBusyboxImage, FIXTURE_EPOCH } from "../../fixtures/make-base-images.js";
import { loadOciLayoutImage } from "./base-image-local.js";
import { openContentStore } from "./content-store.js";
import { openImageStore } from "./image-store.js";

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("busybox fixture: deterministic, valid, runnable, in the image store", async (t) => {
  const d = mkdtempSync(join(tmpdir(), "tsbuild-fixture-test-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const a = await makeBusyboxImage({ outDir: join(d, "a"), root: join(d, "root") });
  const b = await makeBusyboxImage({ outDir: join(d, "b") });
  assert.equal(a.digest, b.digest, "same busybox, same digest");
  assert.equal(openImageStore(join(d, "root")).get("busybox")?.descriptor.digest, a.digest);

  run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=latest", a.layout]);
  assert.equal(JSON.parse(run("skopeo", ["inspect", `oci:${a.layout}:latest`])).Digest, a.digest);
  const bundle = join(d, "bundle");
  run("umoci", ["unpack", ...(process.getuid?.() === 0 ? [] : ["--rootless"]), "--image", `${a.layout}:latest`, bundle]);
  const rootfs = join(bundle, "rootfs");
  assert.equal(readlinkSync(join(rootfs, "bin", "sh")), "busybox");
  assert.equal(statSync(join(rootfs, "tmp")).mode & 0o7777, 0o1777);
  assert.match(readFileSync(join(rootfs, "etc", "passwd"), "utf8"), /^app:x:1000:1000:/m);
  assert.equal(lstatSync(join(rootfs, "etc", "passwd")).mtimeMs, FIXTURE_EPOCH * 1000);

  const img = await loadOciLayoutImage(a.layout, { store: openContentStore(join(d, "c")), ref: "latest" });
  assert.deepEqual(img.config.config.Cmd, ["sh"]);
  assert.ok(img.config.config.Env?.some((e) => e.startsWith("PATH=") && e.includes("/bin")));
  assert.equal(img.config.created, "2024-01-01T00:00:00Z");

  // the binary really runs in its own root (root only: chroot)
  if (process.getuid?.() === 0) {
    const out = run("chroot", [rootfs, "/bin/sh", "-c", "id -un; echo hi | wc -c; ls /bin | grep -c ."]);
    const [user, count, applets] = out.trim().split("\n");
    assert.equal(user, "root");
    assert.equal(count?.trim(), "3");
    assert.ok(Number(applets) > 40);
  } else {
    t.diagnostic("skipped chroot run: needs root");
  }
});
