// A child process for cache-index.test.ts: writes, reads, touches and re-writes records in a
// shared root while another copy of itself does the same. Exits 1 if it ever reads a partial
// record. Usage: index-writer.ts ROOT WRITER_ID COUNT
import { openCacheIndex, type CacheRecord } from "../cache-index.js";
import { blake3Hex } from "../hash.js";

const [root, writer, countText] = process.argv.slice(2);
const count = Number(countText);
const index = openCacheIndex(root!);

function sharedKey(i: number): string {
  return blake3Hex(`shared-${i}`);
}

function recordFor(key: string, i: number): CacheRecord {
  const paths: Record<string, string> = {};
  for (let p = 0; p < 50; p++) paths[`src/file-${p}.go`] = blake3Hex(`${writer}-${i}-${p}`);
  return {
    key,
    snapshot: `snap-${key.slice(0, 12)}`,
    createdAt: Date.now(),
    lastUsedAt: Date.now(),
    size: 1000 + i,
    step: { kind: "copy", description: `COPY src/ /app/ (${writer})`, parentKey: null, inputs: { paths, checksum: key } },
  };
}

let bad = 0;
for (let i = 0; i < count; i++) {
  const own = blake3Hex(`${writer}-${i}`);
  index.put(recordFor(own, i));
  index.put(recordFor(sharedKey(i), i)); // both writers race on the same key
  index.setLastForStep(`step-${i % 10}`, own);
  index.touch(sharedKey(Math.max(0, i - 1)));
  for (const key of [sharedKey(i), own]) {
    const r = index.get(key);
    if (!r || r.key !== key || Object.keys(r.step.inputs.paths ?? {}).length !== 50) bad++;
  }
  if (i % 50 === 0 && index.list().some((r) => Object.keys(r.step.inputs.paths ?? {}).length !== 50)) bad++;
}
process.exit(bad === 0 ? 0 : 1);
