/**
 * A build into the local store keeps its own layers as recipes over their snapshots (no blob is
 * written); `tsbuild save` and a later prune must still give a complete image that real tools read.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/command.js";
import { openCacheIndex } from "../../src/cache/index.js";
import { openImageStore, readImage } from "../../src/index.js";
import { makeFixtureRoot, umociUnavailable, type FixtureRoot } from "../support/build-fixture.js";

let fx: FixtureRoot;
let out: string;
const skip = umociUnavailable();

before(async () => {
  if (skip) return;
  fx = await makeFixtureRoot();
  out = join(fx.dir, "lazy-out");
  mkdirSync(out);
  const ctx = fx.context({ Dockerfile: "FROM busybox\nCOPY hello.txt /srv/hello.txt\nRUN echo built > /srv/built\n", "hello.txt": "hello\n" });
  await fx.build({ context: ctx, tags: ["lazy/app:1"] });
  const other = fx.context({ Dockerfile: "FROM busybox\nCOPY hello.txt /srv/hello.txt\nRUN echo pruned > /srv/built\n", "hello.txt": "other\n" });
  await fx.build({ context: other, tags: ["lazy/pruned:1"] });
});
after(() => fx?.cleanup());

function cli(args: string[]): Promise<number> {
  const sink = () => new PassThrough().resume();
  const io: CliIo = { stdout: sink(), stderr: sink(), stdin: Readable.from([""]), env: { TSBUILD_ROOT: fx.root }, cwd: fx.dir };
  return main(args, io);
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function ownLayerBlobs(name = "lazy/app:1"): Promise<string[]> {
  const images = openImageStore(fx.root);
  const img = await readImage(images.content, images.get(name)!.descriptor);
  return img.manifest.layers.slice(1).map((l) => images.content.blobPath(l.digest));
}

function unpackSaved(tar: string, name: string): string {
  const layout = join(out, `${name}-layout`);
  mkdirSync(layout);
  run("tar", ["-xf", tar, "-C", layout]);
  run("umoci", ["unpack", "--image", `${layout}:1`, join(out, `${name}-bundle`)]);
  return join(out, `${name}-bundle`, "rootfs");
}

test("a build into the local store writes no blob for its own layers", { skip }, async () => {
  const blobs = await ownLayerBlobs();
  assert.equal(blobs.length, 2);
  for (const b of blobs) assert.equal(existsSync(b), false, `${b} was written`);
});

test("tsbuild save writes the layers on demand; umoci unpacks the result", { skip }, async () => {
  const tar = join(out, "saved.tar");
  assert.equal(await cli(["save", "--format", "oci", "-o", tar, "lazy/app:1"]), 0);
  const rootfs = unpackSaved(tar, "saved");
  assert.equal(readFileSync(join(rootfs, "srv/hello.txt"), "utf8"), "hello\n");
  assert.equal(readFileSync(join(rootfs, "srv/built"), "utf8"), "built\n");
});

test("a build FROM the stored image unpacks its lazily stored layers", { skip }, async () => {
  const base = fx.context({ Dockerfile: "FROM busybox\nCOPY base.txt /srv/base.txt\n", "base.txt": "from a local base\n" });
  await fx.build({ context: base, tags: ["lazy/base:1"] });
  for (const b of await ownLayerBlobs("lazy/base:1")) assert.equal(existsSync(b), false, `${b} was written`);
  const ctx = fx.context({ Dockerfile: "FROM lazy/base:1\nRUN cat /srv/base.txt > /copied\n" });
  const out = await fx.buildAndUnpack({ context: ctx });
  assert.equal(readFileSync(join(out.rootfs, "copied"), "utf8"), "from a local base\n");
});

test("prune --all removes the snapshots but the stored image stays complete", { skip }, async () => {
  for (const b of await ownLayerBlobs("lazy/pruned:1")) assert.equal(existsSync(b), false, `${b} was written`);
  assert.equal(await cli(["prune", "--all", "--force"]), 0);
  assert.deepEqual(openCacheIndex(fx.root).list(), [], "the cache is empty, so the snapshots are gone");
  for (const b of await ownLayerBlobs("lazy/pruned:1")) assert.ok(existsSync(b), `${b} was written before its snapshot went`);
  const tar = join(out, "after-prune.tar");
  assert.equal(await cli(["save", "-o", tar, "lazy/pruned:1"]), 0);
  const info = JSON.parse(run("skopeo", ["inspect", `docker-archive:${tar}`])) as { Layers: string[] };
  assert.equal(info.Layers.length, 3);
  const rootfs = unpackSaved(tar, "pruned");
  assert.equal(readFileSync(join(rootfs, "srv/built"), "utf8"), "pruned\n");
  assert.equal(readFileSync(join(rootfs, "srv/hello.txt"), "utf8"), "other\n");
});
