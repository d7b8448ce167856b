/**
 * Builds whose base images come from a real registry (Debian's docker-registry on 127.0.0.1) or
 * from image tars, and whose results are pushed back: the pull/push paths of a build end to end.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "../../src/index.js";
import { makeBusyboxImage } from "../../fixtures/make-base-images.js";
import { openImageStore } from "../../src/image/image-store.js";
import { pushImage } from "../../src/registry/push.js";
import { saveImage } from "../../src/image/image-archive.js";
import { startRegistry, registryUnavailable, type TestRegistry } from "../support/registry.js";

const skip = registryUnavailable();
let reg: TestRegistry;
let work: string;
let fixtureRoot: string;

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), "tsbuild-regbuild-"));
  fixtureRoot = join(work, "fixture-root");
  await makeBusyboxImage({ outDir: join(work, "fx"), root: fixtureRoot });
  reg = await startRegistry();
  const images = openImageStore(fixtureRoot);
  const busybox = images.get("docker.io/library/busybox:latest")!;
  // The same image twice: as itself, and as docker.io's library/busybox for the mirror test.
  for (const ref of [`${reg.host}/base/busybox:1`, `${reg.host}/library/busybox:latest`]) {
    await pushImage({ store: images.content, ref, descriptor: busybox.descriptor });
  }
});

after(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function context(dockerfile: string): string {
  const dir = mkdtempSync(join(work, "ctx-"));
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  writeFileSync(join(dir, "msg.txt"), "from the context\n");
  return dir;
}

test("registry mirrors from <root>/config.json serve docker.io images", { skip }, async () => {
  const root = join(work, "root-mirror");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "config.json"), JSON.stringify({ registries: { "docker.io": { mirrors: [`http://${reg.host}`] } } }));
  const result = await build({ context: context("FROM busybox\nRUN echo mirrored > /m.txt\n"), root, tags: ["mirrored:1"] });
  assert.equal(result.stats.steps, 1);
  assert.ok(openImageStore(root).get("docker.io/library/busybox:latest"), "pulled through the mirror and named as docker.io's");
});

test("FROM docker-archive:// loads the tar into the store and builds on it", { skip }, async () => {
  const tar = join(work, "busybox-archive.tar");
  await saveImage(["busybox:latest"], tar, { root: fixtureRoot, format: "docker" });
  const root = join(work, "root-archive");
  const result = await build({ context: context(`FROM docker-archive://${tar}\nRUN test -x /bin/sh && echo ok > /ok\n`), root });
  assert.equal(result.stats.steps, 1);
  assert.ok(openImageStore(root).get("docker.io/library/busybox:latest"), "the archive's name is recorded, as tsbuild load does");
});

// Last: it stops the registry to show a rebuild needs no network.
test("FROM a registry image pulls it once, keeps it locally, and --push sends the result back", { skip }, async () => {
  const root = join(work, "root-pull");
  const ctx = context(`FROM ${reg.host}/base/busybox:1\nCOPY msg.txt /msg.txt\nRUN cat /msg.txt > /copy.txt\n`);
  const first = await build({ context: ctx, root, tags: [`${reg.host}/app/out:v1`], push: true });
  assert.ok(openImageStore(root).get(`${reg.host}/base/busybox:1`), "the pulled base image is kept in the local store");

  // The pushed image is in the registry under the tag and the same digest; skopeo agrees.
  const inspect = spawnSync("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/app/out:v1`], { encoding: "utf8" });
  assert.equal(inspect.status, 0, inspect.stderr);
  const info = JSON.parse(inspect.stdout) as { Layers: string[]; Digest: string };
  assert.equal(info.Layers.length, 3, "busybox layer + COPY + RUN");
  assert.equal(info.Digest, first.digest, "the build reports the digest it pushed");

  // A second build with the registry stopped still works: nothing needs downloading.
  await reg.stop();
  const again = await build({ context: ctx, root, tags: [`${reg.host}/app/out:v1`] });
  assert.equal(again.configDigest, first.configDigest, "the same image (the pushed manifest differs only by layer compression)");
  assert.equal(again.stats.cached, again.stats.steps);
});
