import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake3Hex } from "../../cache/hash.js";
import { contentDigestsFor, createFiles, DIGEST_BYTES, type CreateJob } from "./create-files.js";

function job(src: string, dst: string, size: number): CreateJob {
  return { src, dst, perm: 0o644, size, uid: -1, gid: -1, mode: -1, atime: 1_700_000_000, mtime: 1_700_000_000 };
}

test("with content digests, every copied file's BLAKE3 comes back from whichever thread copied it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-create-"));
  try {
    mkdirSync(join(dir, "src"));
    mkdirSync(join(dir, "dst"));
    // 2,100 jobs: enough for the second thread; an empty file, and files of one and of several reads (1 MiB each).
    const contents = new Map<number, Buffer>();
    for (let i = 0; i < 2100; i++) contents.set(i, Buffer.from(`file ${i}\n`.repeat(i % 13)));
    contents.set(7, Buffer.alloc((1 << 20) - 1, 1));
    contents.set(8, Buffer.alloc(1 << 20, 2));
    contents.set(1500, Buffer.alloc((3 << 20) + 5, 3));
    const jobs: CreateJob[] = [];
    for (const [i, data] of contents) {
      writeFileSync(join(dir, "src", `f${i}`), data);
      jobs.push(job(join(dir, "src", `f${i}`), join(dir, "dst", `f${i}`), data.length));
    }
    jobs.push(job(join(dir, "src", "missing"), join(dir, "dst", "missing"), 3));
    const sink = contentDigestsFor(jobs.length);
    const failures = await createFiles(jobs, sink);
    assert.deepEqual(failures.map((f) => [f.index, f.code]), [[jobs.length - 1, "ENOENT"]]);
    assert.equal(sink.done[jobs.length - 1], 0, "a failed job has no digest");
    jobs.slice(0, -1).forEach((j, i) => {
      const data = readFileSync(j.dst);
      assert.deepEqual(data, readFileSync(j.src));
      assert.equal(sink.done[i], 1);
      assert.equal(Buffer.from(sink.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES)).toString("hex"), blake3Hex(data), j.src);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a copy worker started ahead and never given a batch does not keep the process alive", () => {
  const module = new URL("./create-files.ts", import.meta.url).href;
  const script = `import { warmUpCreateFiles } from ${JSON.stringify(module)}; warmUpCreateFiles(5000); console.log("warmed");`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.signal, null, "the process had to be killed: the idle worker kept it alive");
  assert.equal(r.stdout.trim(), "warmed", r.stderr);
  assert.equal(r.status, 0);
});
