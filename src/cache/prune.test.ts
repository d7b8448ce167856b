import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCacheIndex, type CacheRecord } from "./cache-index.js";
import { blake3Hex } from "./hash.js";
import { computeUsage, pruneCache } from "./prune.js";

const HOUR = 3_600_000;
const NOW = 1_000 * HOUR;
const k = (name: string) => blake3Hex(name);

/** A chain base → a → b built long ago, plus c superseded by c2 for the same step. */
function setup(t: { after(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const index = openCacheIndex(root);
  const put = (name: string, parent: string | null, size: number, lastUsedAt: number) => {
    const r: CacheRecord = {
      key: k(name),
      snapshot: `snap-${name}`,
      createdAt: lastUsedAt,
      lastUsedAt,
      size,
      step: { kind: "run", description: `RUN ${name}`, parentKey: parent && k(parent), inputs: {} },
    };
    index.put(r);
  };
  put("base", null, 1000, NOW - 100 * HOUR);
  put("a", "base", 200, NOW - 90 * HOUR);
  put("b", "a", 30, NOW - 80 * HOUR);
  put("c", "base", 4, NOW - 70 * HOUR);
  put("c2", "base", 5, NOW - 1 * HOUR);
  for (const [step, name] of [["s-base", "base"], ["s-a", "a"], ["s-b", "b"], ["s-c", "c2"]] as const) {
    index.setLastForStep(step, k(name));
  }
  const removedSnapshots: string[] = [];
  const removeSnapshot = async (name: string) => {
    removedSnapshots.push(name);
  };
  return { root, index, removedSnapshots, removeSnapshot };
}

test("computeUsage totals the records, largest first, and marks in-use ones", (t) => {
  const { root } = setup(t);
  const u = computeUsage(root, { inUse: new Set([k("a")]) });
  assert.equal(u.total, 1239);
  assert.equal(u.reclaimable, 1039);
  assert.deepEqual(u.entries.map((e) => e.description), ["RUN base", "RUN a", "RUN b", "RUN c2", "RUN c"]);
  assert.deepEqual(u.entries.filter((e) => !e.current).map((e) => e.description), ["RUN c"]);
});

test("default prune removes only dangling records and their snapshots", async (t) => {
  const { root, index, removedSnapshots, removeSnapshot } = setup(t);
  const r = await pruneCache(root, { removeSnapshot, now: NOW });
  assert.deepEqual(r.removed.map((x) => x.description), ["RUN c"]);
  assert.equal(r.reclaimed, 4);
  assert.deepEqual(removedSnapshots, ["snap-c"]);
  assert.equal(index.get(k("c")), undefined);
  assert.equal(index.list().length, 4);
});

test("--all removes children before parents and skips what is in use and its ancestors", async (t) => {
  const { root, index, removedSnapshots, removeSnapshot } = setup(t);
  const r = await pruneCache(root, { all: true, inUse: new Set(["snap-b"]), removeSnapshot, now: NOW });
  assert.deepEqual(removedSnapshots, ["snap-c", "snap-c2"]);
  assert.deepEqual(r.removed.map((x) => x.id).sort(), [k("c"), k("c2")].sort());
  assert.deepEqual(index.list().map((x) => x.key).sort(), [k("base"), k("a"), k("b")].sort());
  const all = await pruneCache(root, { all: true, removeSnapshot, now: NOW });
  assert.deepEqual(all.removed.map((x) => x.description), ["RUN b", "RUN a", "RUN base"]);
  assert.deepEqual(index.list(), []);
});

test("until keeps recently used records", async (t) => {
  const { root, index, removeSnapshot } = setup(t);
  const recent = await pruneCache(root, { all: true, until: 2 * HOUR, removeSnapshot, now: NOW });
  // c2 was used 1h ago and base has a kept child (c2), so only a, b and c go.
  assert.deepEqual(recent.removed.map((x) => x.description).sort(), ["RUN a", "RUN b", "RUN c"]);
  assert.deepEqual(index.list().map((x) => x.step.description).sort(), ["RUN base", "RUN c2"]);
});

test("keep-storage removes least recently used first and stops under the budget", async (t) => {
  const { root, index, removeSnapshot } = setup(t);
  const r = await pruneCache(root, { all: true, keepStorageBytes: 1205, removeSnapshot, now: NOW });
  // total 1239; leaves in LRU order: b (30) → 1209, then c (4) → 1205, which meets the budget.
  assert.deepEqual(r.removed.map((x) => x.description), ["RUN b", "RUN c"]);
  assert.equal(computeUsage(root).total, 1205);
  assert.equal(index.list().length, 3);
});

test("a snapshot that refuses removal keeps its record and its parents", async (t) => {
  const { root, index } = setup(t);
  const r = await pruneCache(root, {
    all: true,
    now: NOW,
    removeSnapshot: async (name) => {
      if (name === "snap-b") throw new Error("snapshot snap-b is busy");
    },
  });
  assert.deepEqual(r.failed, [{ id: k("b"), error: "snapshot snap-b is busy" }]);
  assert.deepEqual(index.list().map((x) => x.step.description).sort(), ["RUN a", "RUN b", "RUN base"]);
});
