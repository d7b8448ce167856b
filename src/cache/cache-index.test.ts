import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openCacheIndex, stepIdentity, type CacheRecord } from "./cache-index.js";
import { blake3Hex } from "./hash.js";

function tempRoot(t: { after(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

function record(key: string, overrides: Partial<CacheRecord> = {}): CacheRecord {
  return {
    key,
    snapshot: `snap-${key.slice(0, 8)}`,
    createdAt: 1000,
    lastUsedAt: 1000,
    size: 42,
    step: { kind: "run", description: "make", parentKey: null, inputs: { command: "make" } },
    ...overrides,
  };
}

test("put, get, touch, delete and list round-trip records on disk", (t) => {
  const root = tempRoot(t);
  const index = openCacheIndex(root);
  const k = blake3Hex("a");
  assert.equal(index.get(k), undefined);
  index.put(record(k, { layer: { diffId: "sha256:" + "0".repeat(64) } }));
  assert.ok(readdirSync(join(root, "cache", "records", k.slice(0, 2))).includes(`${k}.json`));
  const again = openCacheIndex(root);
  assert.deepEqual(again.get(k), record(k, { layer: { diffId: "sha256:" + "0".repeat(64) } }));
  again.touch(k, 5000);
  assert.equal(index.get(k)?.lastUsedAt, 5000);
  index.touch(k, 3000); // never moves backwards
  assert.equal(index.get(k)?.lastUsedAt, 5000);
  index.put(record(blake3Hex("b")));
  assert.deepEqual(index.list().map((r) => r.key).sort(), [k, blake3Hex("b")].sort());
  index.delete(k);
  assert.equal(index.get(k), undefined);
  assert.deepEqual(index.list().map((r) => r.key), [blake3Hex("b")]);
  assert.throws(() => index.get("../../etc/passwd"), /invalid cache key/);
});

test("a record keeps its path digests; marking it used does not rewrite it", (t) => {
  const root = tempRoot(t);
  const index = openCacheIndex(root);
  const k = blake3Hex("copy");
  // Enough paths that the second line is far past the first read of the file.
  const paths = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`dir/file-${i}.txt`, blake3Hex(String(i))]));
  index.put(record(k, { step: { kind: "copy", description: "COPY . /", parentKey: null, inputs: { sources: ["."], paths, pathsTruncated: true } } }));
  const file = join(root, "cache", "records", k.slice(0, 2), `${k}.json`);
  const before = { text: readFileSync(file, "utf8"), ino: statSync(file).ino };
  index.touch(k, 9000);
  assert.deepEqual({ text: readFileSync(file, "utf8"), ino: statSync(file).ino }, before);
  const got = openCacheIndex(root).get(k)!;
  assert.equal(got.lastUsedAt, 9000);
  assert.deepEqual(got.step.inputs.paths, paths);
  assert.equal(got.step.inputs.pathsTruncated, true);
  assert.deepEqual(index.list().map((r) => [r.key, r.lastUsedAt]), [[k, 9000]]);
});

test("a damaged record reads as absent instead of failing the build", (t) => {
  const root = tempRoot(t);
  const k = blake3Hex("x");
  mkdirSync(join(root, "cache", "records", k.slice(0, 2)), { recursive: true });
  writeFileSync(join(root, "cache", "records", k.slice(0, 2), `${k}.json`), '{"key":');
  const index = openCacheIndex(root);
  assert.equal(index.get(k), undefined);
  assert.deepEqual(index.list(), []);
});

test("step identity maps to the last key built for that step", (t) => {
  const index = openCacheIndex(tempRoot(t));
  const id = stepIdentity({ dockerfile: "Dockerfile", stage: "build", position: 3, text: "RUN make" });
  const other = stepIdentity({ dockerfile: "Dockerfile", stage: "build", position: 4, text: "RUN make" });
  assert.equal(index.lastForStep(id), undefined);
  index.setLastForStep(id, blake3Hex("1"));
  index.setLastForStep(id, blake3Hex("2"));
  assert.equal(index.lastForStep(id), blake3Hex("2"));
  assert.equal(index.lastForStep(other), undefined);
  assert.deepEqual(index.listSteps(), [{ stepId: id, key: blake3Hex("2") }]);
});

test("setting the key a step already has (every cache hit does) leaves its file alone", (t) => {
  const root = tempRoot(t);
  const index = openCacheIndex(root);
  const id = stepIdentity({ dockerfile: "Dockerfile", stage: 0, position: 1, text: "COPY . /" });
  index.setLastForStep(id, blake3Hex("1"));
  const dir = join(root, "cache", "steps");
  const ino = () => readdirSync(dir).map((f) => statSync(join(dir, f)).ino);
  const before = ino();
  index.setLastForStep(id, blake3Hex("1"));
  assert.deepEqual(ino(), before);
  index.setLastForStep(id, blake3Hex("2"));
  assert.notDeepEqual(ino(), before);
  assert.equal(index.lastForStep(id), blake3Hex("2"));
});

function runWriter(root: string, writer: string, count: number): Promise<number> {
  const script = fileURLToPath(new URL("./testdata/index-writer.ts", import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, root, writer, String(count)], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

test("two processes writing and reading at once leave only whole records", async (t) => {
  const root = tempRoot(t);
  const count = 300;
  const codes = await Promise.all([runWriter(root, "w1", count), runWriter(root, "w2", count)]);
  assert.deepEqual(codes, [0, 0], "a writer saw a partial record");
  const index = openCacheIndex(root);
  const records = index.list();
  assert.equal(records.length, 3 * count); // w1's, w2's, and the shared keys
  for (const r of records) assert.equal(Object.keys(r.step.inputs.paths ?? {}).length, 50);
  // Every file on disk parses: no temp files or partial writes left behind.
  for (const shard of readdirSync(join(root, "cache", "records"))) {
    for (const f of readdirSync(join(root, "cache", "records", shard))) {
      assert.ok(f.endsWith(".json") && !f.startsWith("."), `stray file ${f}`);
      for (const line of readFileSync(join(root, "cache", "records", shard, f), "utf8").split("\n")) JSON.parse(line);
    }
  }
  assert.equal(index.listSteps().length, 10);
});
