import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { main } from "../main.js";
import type { CliIo } from "../command.js";
import { blake3Hex, openCacheIndex } from "../../cache/index.js";

function capture(root: string, stdin = "") {
  const out = new PassThrough();
  const err = new PassThrough();
  const got = { stdout: "", stderr: "" };
  out.on("data", (c) => (got.stdout += c));
  err.on("data", (c) => (got.stderr += c));
  const io: CliIo = { stdout: out, stderr: err, stdin: Readable.from([stdin]), env: { TSBUILD_ROOT: root }, cwd: root };
  return { io, got };
}

/** A root with two records: a current step result of 1.5 MB and a dangling one of 2 kB. */
function seededRoot(t: { after(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-cli-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const index = openCacheIndex(root);
  const day = 86_400_000;
  for (const [name, size, age] of [["current", 1_500_000, 3 * day], ["old", 2_000, 10 * day]] as const) {
    index.put({
      key: blake3Hex(name),
      snapshot: `snap-${name}`,
      createdAt: Date.now() - age,
      lastUsedAt: Date.now() - age,
      size,
      step: { kind: "run", description: `RUN make ${name}`, parentKey: null, inputs: {} },
    });
  }
  index.setLastForStep("Dockerfile:0:1:RUN make", blake3Hex("current"));
  return { root, index };
}

test("tsbuild du prints a table and totals like buildx du", async (t) => {
  const { root } = seededRoot(t);
  const { io, got } = capture(root);
  assert.equal(await main(["du"], io), 0);
  const lines = got.stdout.split("\n");
  assert.match(lines[0]!, /^ID\s+RECLAIMABLE\s+SIZE\s+LAST ACCESSED$/);
  assert.match(lines[1]!, new RegExp(`^${blake3Hex("current").slice(0, 25)}\\s+true\\s+1.5MB\\s+3 days ago$`));
  assert.match(lines[2]!, new RegExp(`^${blake3Hex("old").slice(0, 25)}\\*\\s+true\\s+2kB\\s+10 days ago$`));
  assert.match(got.stdout, /Reclaimable:\s+1.502MB\nTotal:\s+1.502MB\n$/);
});

test("tsbuild du --verbose shows each record; an empty cache totals 0B", async (t) => {
  const { root } = seededRoot(t);
  const v = capture(root);
  assert.equal(await main(["du", "--verbose"], v.io), 0);
  assert.match(v.got.stdout, new RegExp(`ID:\\s+${blake3Hex("old")}`));
  assert.match(v.got.stdout, /Description:\s+RUN make old/);
  const empty = mkdtempSync(join(tmpdir(), "tsbuild-cli-"));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const e = capture(root);
  assert.equal(await main(["du", "--root", empty], e.io), 0);
  assert.equal(e.got.stdout, "Reclaimable:\t0B\nTotal:\t\t0B\n");
});

test("tsbuild prune removes dangling cache by default, everything with --all", async (t) => {
  const { root, index } = seededRoot(t);
  const first = capture(root);
  assert.equal(await main(["prune", "--force", "--verbose"], first.io), 0);
  assert.match(first.got.stdout, new RegExp(`Deleted: ${blake3Hex("old")}`));
  assert.match(first.got.stdout, /Total:\t2kB\n$/);
  assert.deepEqual(index.list().map((r) => r.step.description), ["RUN make current"]);
  const all = capture(root);
  assert.equal(await main(["prune", "-af"], all.io), 0);
  assert.equal(all.got.stdout, "Total:\t1.5MB\n");
  assert.deepEqual(index.list(), []);
});

test("tsbuild prune honours --filter until, --keep-storage and the confirmation prompt", async (t) => {
  const { root, index } = seededRoot(t);
  const recent = capture(root);
  assert.equal(await main(["prune", "--all", "--force", "--filter", "until=240h"], recent.io), 0);
  assert.equal(recent.got.stdout, "Total:\t2kB\n"); // only the record unused for 10 days
  const keep = capture(root);
  assert.equal(await main(["prune", "--all", "--force", "--keep-storage", "10MB"], keep.io), 0);
  assert.equal(keep.got.stdout, "Total:\t0B\n");
  const declined = capture(root, "n\n");
  assert.equal(await main(["prune", "--all"], declined.io), 0);
  assert.match(declined.got.stdout, /Are you sure you want to continue\? \[y\/N\] $/);
  assert.equal(index.list().length, 1);
  const accepted = capture(root, "y\n");
  assert.equal(await main(["prune", "--all"], accepted.io), 0);
  assert.equal(index.list().length, 0);
});

test("tsbuild prune rejects bad sizes, durations and filters with exit code 2", async (t) => {
  const { root } = seededRoot(t);
  for (const args of [["--keep-storage", "lots"], ["--filter", "until=1d"], ["--filter", "type=regular"], ["--bogus"]]) {
    const c = capture(root);
    assert.equal(await main(["prune", "-f", ...args], c.io), 2, args.join(" "));
    assert.match(c.got.stderr, /^ERROR: /);
  }
});
