import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { openContentStore } from "./content-store.js";
import { hashLayer, writeLayer } from "./layer/index.js";
import { makeFixtureTree } from "./layer/test-trees.js";

function setup() {
  const work = mkdtempSync(join(tmpdir(), "tsbuild-lazy-"));
  const tree = join(work, "snapshots", "1", "fs");
  mkdirSync(tree, { recursive: true });
  const store = openContentStore(join(work, "content"));
  return { work, tree, store, done: () => rmSync(work, { recursive: true, force: true }) };
}

test("a lazily stored layer is written only when read, with the bytes writeLayer gives", async () => {
  const { work, tree, store, done } = setup();
  try {
    await makeFixtureTree(tree, 1_600_000_000);
    const { diffId, size } = await hashLayer(tree, { sourceDateEpoch: 1_650_000_000 });
    store.putLazy({ digest: diffId, size }, { kind: "layer-tar", dir: relative(store.dir, tree), snapshot: "s1", sourceDateEpoch: 1_650_000_000 });
    assert.equal(existsSync(store.blobPath(diffId)), false, "nothing written yet");
    assert.ok(store.has(diffId));
    assert.equal(store.size(diffId), size);

    const streamed: Buffer[] = [];
    for await (const c of store.openRead(diffId)) streamed.push(c as Buffer);
    assert.ok(existsSync(store.blobPath(diffId)), "reading wrote the blob");
    const eager = await writeLayer(tree, { store: openContentStore(join(work, "other")), compression: "none", sourceDateEpoch: 1_650_000_000 });
    assert.equal(eager.diffId, diffId);
    assert.deepEqual(Buffer.concat(streamed), await openContentStore(join(work, "other")).readBlob(diffId));
  } finally {
    done();
  }
});

test("a lazily stored layer whose snapshot changed fails clearly; one whose snapshot is gone is not there", async () => {
  const { tree, store, done } = setup();
  try {
    writeFileSync(join(tree, "a.txt"), "one\n");
    const { diffId, size } = await hashLayer(tree, {});
    store.putLazy({ digest: diffId, size }, { kind: "layer-tar", dir: relative(store.dir, tree), snapshot: "s1" });
    writeFileSync(join(tree, "a.txt"), "two\n");
    await assert.rejects(store.readBlob(diffId), (err: Error & { code?: string }) => {
      assert.equal(err.code, "store/lazy-mismatch");
      assert.match(err.message, /snapshot s1/);
      return true;
    });
    assert.equal(existsSync(store.blobPath(diffId)), false, "no blob under the wrong digest");
    rmSync(tree, { recursive: true });
    assert.equal(store.has(diffId), false);
    await assert.rejects(store.ensure(diffId), { code: "store/not-found" });
  } finally {
    done();
  }
});

test("materializeLazy writes the blobs of the recipes it selects", async () => {
  const { work, tree, store, done } = setup();
  try {
    writeFileSync(join(tree, "a.txt"), "one\n");
    const other = join(work, "snapshots", "2", "fs");
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, "b.txt"), "two\n");
    const a = await hashLayer(tree, {});
    const b = await hashLayer(other, {});
    store.putLazy({ digest: a.diffId, size: a.size }, { kind: "layer-tar", dir: relative(store.dir, tree), snapshot: "s1" });
    store.putLazy({ digest: b.diffId, size: b.size }, { kind: "layer-tar", dir: relative(store.dir, other), snapshot: "s2" });
    assert.deepEqual(await store.materializeLazy((r) => r.snapshot === "s1"), [a.diffId]);
    rmSync(tree, { recursive: true });
    assert.ok(store.has(a.diffId), "kept after its snapshot went away");
    assert.equal((await store.readBlob(a.diffId)).length, a.size);
    assert.equal(existsSync(store.blobPath(b.diffId)), false);
  } finally {
    done();
  }
});
