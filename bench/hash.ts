// Re-measures the hash behind cache keys and context checksums on this machine:
// @napi-rs/blake-hash BLAKE3 (native) against node:crypto sha256, on one 64 MiB buffer and on
// 20,000 small files read with readFileSync. Run: node --import tsx bench/hash.ts
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake3Hex, createBlake3 } from "../src/cache/hash.js";

type Hasher = { name: string; oneShot: (b: Uint8Array) => string; chunked: (b: Buffer) => string };

const CHUNK = 1 << 20;
const hashers: Hasher[] = [
  {
    name: "blake3 (@napi-rs/blake-hash)",
    oneShot: (b) => blake3Hex(b),
    chunked: (b) => {
      const h = createBlake3();
      for (let o = 0; o < b.length; o += CHUNK) h.update(b.subarray(o, o + CHUNK));
      return h.digestHex();
    },
  },
  {
    name: "sha256 (node:crypto)",
    oneShot: (b) => createHash("sha256").update(b).digest("hex"),
    chunked: (b) => {
      const h = createHash("sha256");
      for (let o = 0; o < b.length; o += CHUNK) h.update(b.subarray(o, o + CHUNK));
      return h.digest("hex");
    },
  },
];

/** Best of `runs` wall times in ms. */
function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return min;
}

const big = randomBytes(64 * 1024 * 1024);
console.log("64 MiB in memory (best of 5):");
for (const h of hashers) {
  const one = best(5, () => h.oneShot(big));
  const chunked = best(5, () => h.chunked(big));
  console.log(`  ${h.name.padEnd(30)} one-shot ${(64 / (one / 1000)).toFixed(0)} MiB/s, 1 MiB chunks ${(64 / (chunked / 1000)).toFixed(0)} MiB/s`);
}

const dir = mkdtempSync(join(tmpdir(), "tsbuild-bench-"));
try {
  const files: string[] = [];
  let bytes = 0;
  for (let i = 0; i < 20_000; i++) {
    const sub = join(dir, String(i % 100));
    if (i < 100) mkdirSync(sub);
    const f = join(sub, `f${i}`);
    const size = 1024 + ((i * 7919) % (15 * 1024));
    writeFileSync(f, randomBytes(size));
    files.push(f);
    bytes += size;
  }
  console.log(`20,000 files, ${(bytes / 1048576).toFixed(0)} MiB, readFileSync + hash, warm cache (best of 3):`);
  const readOnly = best(3, () => files.forEach((f) => readFileSync(f)));
  console.log(`  ${"read only".padEnd(30)} ${(files.length / (readOnly / 1000)).toFixed(0)} files/s`);
  for (const h of hashers) {
    const ms = best(3, () => files.forEach((f) => h.oneShot(readFileSync(f))));
    console.log(`  ${h.name.padEnd(30)} ${(files.length / (ms / 1000)).toFixed(0)} files/s, ${(bytes / 1048576 / (ms / 1000)).toFixed(0)} MiB/s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
