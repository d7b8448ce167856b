import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { parallelGzip } from "./parallel-gzip.js";

async function compress(data: Buffer, chunk: number, level = 1): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) parts.push(data.subarray(at, at + chunk));
  const out: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(parallelGzip(level))) out.push(c as Buffer);
  return Buffer.concat(out);
}

const MiB = 1 << 20;
const text = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `line ${i}: the same words again ${i % 37}\n`).join(""));
const inputs: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  tiny: Buffer.from("hello\n"),
  "one block exactly": Buffer.alloc(MiB, 7),
  // Matches reaching back across block boundaries (the previous block is each block's dictionary).
  "many blocks": Buffer.concat([text, randomBytes(MiB + 3), text, text, Buffer.alloc(2 * MiB + 1)]),
};

for (const [name, data] of Object.entries(inputs)) {
  test(`parallel gzip of ${name}: one gzip member that zlib and gzip(1) read back, whatever the input chunks`, async () => {
    const gz = await compress(data, 100_003);
    assert.deepEqual(gunzipSync(gz), data);
    assert.deepEqual(execFileSync("gzip", ["-dc"], { input: gz, maxBuffer: 64 * MiB }), data);
    assert.deepEqual(gz.subarray(0, 10), gzipSync(Buffer.alloc(0), { level: 1 }).subarray(0, 10), "the header zlib writes at level 1");
    assert.deepEqual(await compress(data, 777_777), gz, "the bytes depend on the data, not on how it arrived");
    // About as small as one zlib stream: each block boundary costs a sync marker and a new block header.
    assert.ok(gz.length <= gzipSync(data, { level: 1 }).length + 64 * Math.ceil(data.length / MiB) + 16);
  });
}

test("parallel gzip honours the level", async () => {
  const data = inputs["many blocks"]!;
  const fast = await compress(data, MiB, 1);
  const best = await compress(data, MiB, 9);
  assert.ok(best.length < fast.length);
  assert.deepEqual(gunzipSync(best), data);
  assert.equal(best[8], 2, "XFL says maximum compression");
});
