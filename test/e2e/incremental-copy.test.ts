/**
 * Incremental COPY: after one file of a copied tree changes, the rebuilt layer hard-links the
 * unchanged files from the previous result instead of copying them, and both images stay right.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { makeFixtureRoot, umociUnavailable, type FixtureRoot } from "../support/build-fixture.js";
import { createSnapshotter } from "../../src/exec/snapshot/index.js";
import { openCacheIndex } from "../../src/cache/cache-index.js";

let fx: FixtureRoot;
const skip = umociUnavailable();
before(async () => {
  if (!skip) fx = await makeFixtureRoot();
});
after(() => fx?.cleanup());

/** The directory of the COPY layer of the last build of `ctx` (its cache record's snapshot). */
async function copyLayerDir(): Promise<string> {
  const records = openCacheIndex(fx.root).list().filter((r) => r.step.description.includes("COPY app"));
  const newest = records.sort((a, b) => b.createdAt - a.createdAt)[0]!;
  return (await createSnapshotter({ root: fx.root })).diffDir(newest.snapshot);
}

test("one changed file: unchanged files are linked from the previous layer, the image holds the new content", { skip }, async () => {
  const files: Record<string, string> = { Dockerfile: "FROM busybox\nCOPY app /app\nRUN cat /app/a.txt /app/sub/b.txt > /joined\n" };
  for (let i = 0; i < 20; i++) files[`app/f${i}.txt`] = `file ${i}\n`;
  files["app/a.txt"] = "a1\n";
  files["app/sub/b.txt"] = "b1\n";
  const ctx = fx.context(files);
  const first = await fx.buildAndUnpack({ context: ctx });
  const layer1 = await copyLayerDir();

  writeFileSync(join(ctx, "app/a.txt"), "a2\n");
  utimesSync(join(ctx, "app/a.txt"), new Date(), new Date(Date.now() - 5000));
  const second = await fx.buildAndUnpack({ context: ctx });
  const layer2 = await copyLayerDir();
  assert.notEqual(layer2, layer1);

  // Unchanged files share the inode with the previous layer; the changed one does not.
  assert.equal(statSync(join(layer2, "app/f7.txt")).ino, statSync(join(layer1, "app/f7.txt")).ino);
  assert.equal(statSync(join(layer2, "app/sub/b.txt")).ino, statSync(join(layer1, "app/sub/b.txt")).ino);
  assert.notEqual(statSync(join(layer2, "app/a.txt")).ino, statSync(join(layer1, "app/a.txt")).ino);

  // Both images are right: the old result was not touched by the new one.
  assert.equal(readFileSync(join(layer1, "app/a.txt"), "utf8"), "a1\n");
  assert.equal(readFileSync(join(first.rootfs, "joined"), "utf8"), "a1\nb1\n");
  assert.equal(readFileSync(join(second.rootfs, "joined"), "utf8"), "a2\nb1\n");
  assert.equal(readFileSync(join(second.rootfs, "app/f7.txt"), "utf8"), "file 7\n");
});

test("a file whose mode changed is copied, not linked (the link would change the old layer too)", { skip }, async () => {
  const ctx = fx.context({ Dockerfile: "FROM busybox\nCOPY app /app\n", "app/run.sh": "echo hi\n", "app/keep.txt": "keep\n" });
  await fx.build({ context: ctx });
  const layer1 = await copyLayerDir();
  const { chmodSync } = await import("node:fs");
  chmodSync(join(ctx, "app/run.sh"), 0o755);
  await fx.build({ context: ctx });
  const layer2 = await copyLayerDir();
  assert.equal(statSync(join(layer1, "app/run.sh")).mode & 0o777, 0o644, "the previous layer keeps its mode");
  assert.equal(statSync(join(layer2, "app/run.sh")).mode & 0o777, 0o755);
  assert.equal(statSync(join(layer2, "app/keep.txt")).ino, statSync(join(layer1, "app/keep.txt")).ino);
});
