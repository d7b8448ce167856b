import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { openContentStore } from "./content-store.js";
import { sha256Digest, type Digest } from "../internal/digest.js";
import { TsbuildError } from "../errors/index.js";

function tempStore() {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-cs-"));
  return { dir, store: openContentStore(dir), done: () => rmSync(dir, { recursive: true, force: true }) };
}

async function* chunks(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

test("writeBlob stores at blobs/sha256/<hex> and reads back", async () => {
  const { dir, store, done } = tempStore();
  try {
    const data = Buffer.from("hello content store\n");
    const info = await store.writeBlob(data);
    assert.equal(info.digest, sha256Digest(data));
    assert.equal(info.size, data.length);
    assert.equal(store.blobPath(info.digest), join(dir, "blobs", "sha256", info.digest.slice(7)));
    assert.ok(store.has(info.digest));
    assert.equal(store.size(info.digest), data.length);
    assert.deepEqual(await store.readBlob(info.digest), data);
    const streamed: Buffer[] = [];
    for await (const c of store.openRead(info.digest)) streamed.push(c as Buffer);
    assert.deepEqual(Buffer.concat(streamed), data);
    assert.deepEqual(store.list(), [info.digest]);
    assert.deepEqual(store.usage(), { count: 1, bytes: data.length });
    store.delete(info.digest);
    assert.equal(store.has(info.digest), false);
    assert.equal(store.size(info.digest), undefined);
    assert.deepEqual(store.usage(), { count: 0, bytes: 0 });
  } finally {
    done();
  }
});

test("ingest verifies digest and size, removes the temp file and names both digests", async () => {
  const { dir, store, done } = tempStore();
  try {
    const data = Buffer.from("some bytes");
    const wrong = sha256Digest("other bytes");
    await assert.rejects(store.ingest(chunks(data, 3), { digest: wrong }), (err: unknown) => {
      assert.ok(err instanceof TsbuildError);
      assert.equal(err.code, "store/digest-mismatch");
      assert.match(err.message, new RegExp(wrong));
      assert.match(err.message, new RegExp(sha256Digest(data)));
      return true;
    });
    await assert.rejects(store.ingest(chunks(data, 3), { digest: sha256Digest(data), size: 99 }), {
      code: "store/digest-mismatch",
    });
    assert.equal(store.has(sha256Digest(data)), false);
    assert.deepEqual(readdirSync(join(dir, "ingest")), []);
    const ok = await store.ingest(chunks(data, 3), { digest: sha256Digest(data), size: data.length });
    assert.equal(ok.digest, sha256Digest(data));
  } finally {
    done();
  }
});

test("an existing blob is never rewritten", async () => {
  const { store, done } = tempStore();
  try {
    const data = Buffer.from("immutable");
    const { digest } = await store.writeBlob(data);
    const before = statSync(store.blobPath(digest));
    await store.writeBlob(data);
    const after = statSync(store.blobPath(digest));
    assert.equal(after.ino, before.ino);
  } finally {
    done();
  }
});

test("readBlob of a missing blob throws store/not-found; bad digests are refused", async () => {
  const { store, done } = tempStore();
  try {
    await assert.rejects(store.readBlob(sha256Digest("nope")), { code: "store/not-found" });
    assert.throws(() => store.blobPath("sha256:../../etc" as Digest), { code: "store/bad-digest" });
  } finally {
    done();
  }
});

test("two processes ingesting the same big blob at once leave one intact blob", async () => {
  const { dir, store, done } = tempStore();
  try {
    // 24 MiB of varied bytes, written in 64 KiB chunks so the two writers interleave.
    const big = Buffer.alloc(24 << 20);
    for (let i = 0; i < big.length; i += 32) createHash("sha256").update(String(i)).digest().copy(big, i);
    const src = join(dir, "source.bin");
    writeFileSync(src, big);
    const expected = sha256Digest(big);
    const moduleUrl = pathToFileURL(fileURLToPath(new URL("./content-store.ts", import.meta.url))).href;
    const script = `
      import { openContentStore } from ${JSON.stringify(moduleUrl)};
      import { readFileSync } from "node:fs";
      const data = readFileSync(process.argv[1]);
      async function* gen() { for (let o = 0; o < data.length; o += 65536) { yield data.subarray(o, o + 65536); await new Promise((r) => setImmediate(r)); } }
      const r = await openContentStore(process.argv[2]).ingest(gen(), { digest: process.argv[3] });
      process.stdout.write(r.digest);`;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const p = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, src, dir, expected]);
        let out = "";
        let errOut = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (errOut += d));
        p.on("error", reject);
        p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`writer failed: ${errOut}`))));
      });
    const results = await Promise.all([run(), run(), run()]);
    assert.deepEqual(results, [expected, expected, expected]);
    assert.equal(sha256Digest(readFileSync(store.blobPath(expected))), expected);
    assert.deepEqual(store.list(), [expected]);
    assert.deepEqual(readdirSync(join(dir, "ingest")), []);
  } finally {
    done();
  }
});
