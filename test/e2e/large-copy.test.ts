/**
 * A COPY big enough to be written on two threads and to have its layer hashed in the background
 * (from 2,048 files): the image holds every file as copied, and the layer digest recorded early
 * is the one the layer writer reproduces.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { openImageStore, readImage } from "../../src/index.js";
import { makeFixtureRoot, recordBuild, umociUnavailable, type ContextEntry, type FixtureRoot } from "../support/build-fixture.js";

let fx: FixtureRoot;
const skip = umociUnavailable();

before(async () => {
  if (!skip) fx = await makeFixtureRoot();
});
after(() => fx?.cleanup());

test("a COPY of 2,100 files: every file arrives, and the local image's diffIDs equal the exported ones", { skip }, async () => {
  const files: Record<string, ContextEntry> = { Dockerfile: "FROM busybox\nCOPY . /app/\n" };
  for (let d = 0; d < 21; d++) for (let f = 0; f < 100; f++) files[`d${d}/f${f}.txt`] = `file ${d}/${f}\n`.repeat(f % 7);
  files["d3/tool.sh"] = { content: "#!/bin/sh\n", mode: 0o4750 };
  const out = await fx.buildAndUnpack({ context: fx.context(files), tags: ["large/copy:1"] });
  for (let d = 0; d < 21; d++) assert.equal(readdirSync(join(out.rootfs, `app/d${d}`)).length, d === 3 ? 101 : 100);
  assert.equal(readFileSync(join(out.rootfs, "app/d20/f99.txt"), "utf8"), "file 20/99\n".repeat(99 % 7));
  assert.equal(statSync(join(out.rootfs, "app/d3/tool.sh")).mode & 0o7777, 0o4750);

  const images = openImageStore(fx.root);
  const local = await readImage(images.content, images.get("docker.io/large/copy:1")!.descriptor);
  // The OCI export packed its layers with the writer (gzip); the local image took the early hash.
  assert.deepEqual(local.config.rootfs.diff_ids, out.config.rootfs.diff_ids);
  const copyLayer = local.manifest.layers.at(-1)!.digest;
  await images.content.ensure(copyLayer); // writes the lazy blob, checking its digest
});

/** Cache record keys in a tsbuild root. */
function recordKeys(root: string): Set<string> {
  const dir = join(root, "cache", "records");
  return new Set(readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub))));
}

test("copied ahead of its checksum (a large COPY new to the root) or after it: the same cache key", { skip }, async () => {
  const files: Record<string, ContextEntry> = { Dockerfile: "FROM busybox\nCOPY . /data/\n" };
  for (let d = 0; d < 21; d++) for (let f = 0; f < 100; f++) files[`s${d}/g${f}`] = `${d}.${f}:`.repeat(1 + ((d * f) % 300));
  files["big.bin"] = "x".repeat(3 << 20); // read in several chunks
  files["empty"] = "";
  const context = fx.context(files);
  const plainRoot = join(fx.dir, "root-plain");
  execFileSync("cp", ["-a", fx.root, plainRoot]);
  const before = recordKeys(fx.root);
  const added = (root: string) => [...recordKeys(root)].filter((k) => !before.has(k)).sort();

  await fx.build({ context, tags: ["large/ahead:1"] }); // never built here, nothing in the stat cache: copied ahead
  process.env.TSBUILD_NO_COPY_AHEAD = "1";
  try {
    await recordBuild({ root: plainRoot, context, tags: ["large/ahead:1"] });
  } finally {
    delete process.env.TSBUILD_NO_COPY_AHEAD;
  }
  assert.equal(added(fx.root).length, 1);
  assert.deepEqual(added(fx.root), added(plainRoot));
  // And the copy made ahead is the layer: a rebuild is cached, and the image holds the files.
  const again = await fx.buildAndUnpack({ context, tags: ["large/ahead:2"] });
  assert.ok([...again.vertices.values()].filter((v) => v.name.includes("COPY")).every((v) => v.cached));
  assert.equal(readFileSync(join(again.rootfs, "data/s20/g99"), "utf8"), "20.99:".repeat(1 + ((20 * 99) % 300)));
  assert.equal(statSync(join(again.rootfs, "data/big.bin")).size, 3 << 20);
});

test("a large copy that fails when copied ahead fails the same way as one copied after the lookup", { skip }, async () => {
  // Two sources need a directory destination written with a trailing "/": the copy itself refuses.
  const files: Record<string, ContextEntry> = { Dockerfile: "FROM busybox\nCOPY big one.txt /dst\n", "one.txt": "1\n" };
  for (let f = 0; f < 2100; f++) files[`big/f${f}`] = `${f}\n`;
  const context = fx.context(files);
  const failure = async () => {
    const err = await fx.build({ context }).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    assert.ok(err, "the build must fail");
    return { code: err.code, message: err.message };
  };
  const ahead = await failure();
  process.env.TSBUILD_NO_COPY_AHEAD = "1";
  try {
    assert.deepEqual(await failure(), ahead);
  } finally {
    delete process.env.TSBUILD_NO_COPY_AHEAD;
  }
  assert.match(ahead.message, /must be a directory and end with a \//);
  assert.deepEqual(readdirSync(join(fx.root, "tmp")), [], "no copy left behind in the root's scratch space");
});
