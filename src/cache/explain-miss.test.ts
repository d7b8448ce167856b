import { test } from "node:test";
import assert from "node:assert/strict";
import { capPaths, type CacheRecord, type StepInputs } from "./cache-index.js";
import { explainMiss } from "./explain-miss.js";

const P = "a".repeat(64);

function prev(inputs: StepInputs, parentKey: string | null = P): CacheRecord {
  return {
    key: "f".repeat(64),
    snapshot: "s",
    createdAt: 0,
    lastUsedAt: 0,
    step: { kind: "run", description: "", parentKey, inputs },
  };
}

test("never built before", () => {
  assert.equal(explainMiss(undefined, { inputs: {}, parentKey: P }, false), "no previous build of this step");
});

test("a changed parent is reported before the step's own changes", () => {
  const r = prev({ command: "make" });
  assert.equal(explainMiss(r, { inputs: { command: "make test" }, parentKey: "b".repeat(64) }, true), "its parent changed");
  assert.match(explainMiss(r, { inputs: { command: "make" }, parentKey: null }, false), /^its parent changed/);
});

test("RUN: command, env and build arg changes", () => {
  const r = prev({ command: "make", env: ["FOO=1", "PATH=/bin"], args: ["VERSION=1.0"] });
  assert.equal(
    explainMiss(r, { inputs: { command: "make all", env: ["FOO=1", "PATH=/bin"], args: ["VERSION=1.0"] }, parentKey: P }, false),
    "command changed: `make` → `make all`",
  );
  assert.equal(
    explainMiss(r, { inputs: { command: "make", env: ["PATH=/bin", "FOO=2"], args: ["VERSION=1.0"] }, parentKey: P }, false),
    "env changed: FOO=1 → FOO=2",
  );
  assert.equal(
    explainMiss(r, { inputs: { command: "make", env: ["FOO=1", "PATH=/bin", "BAR=x"], args: ["VERSION=1.0"] }, parentKey: P }, false),
    "env changed: BAR (unset) → BAR=x",
  );
  const argMsg = explainMiss(r, { inputs: { command: "make", env: ["FOO=1", "PATH=/bin"], args: ["VERSION=2.0-secret"] }, parentKey: P }, false);
  assert.equal(argMsg, "build arg changed: VERSION");
});

test("COPY: the first changed, added or removed path in sorted order", () => {
  const r = prev({ sources: ["app/"], paths: { "app/a.go": "1", "app/main.go": "2", "app/z.go": "3" }, checksum: "c1" });
  const at = (paths: Record<string, string>) =>
    explainMiss(r, { inputs: { sources: ["app/"], paths, checksum: "c2" }, parentKey: P }, false);
  assert.equal(at({ "app/a.go": "1", "app/main.go": "9", "app/z.go": "9" }), "file changed: app/main.go");
  assert.equal(at({ "app/a.go": "1", "app/b.go": "5", "app/main.go": "2", "app/z.go": "3" }), "file added: app/b.go");
  assert.equal(at({ "app/main.go": "2", "app/z.go": "3" }), "file removed: app/a.go");
  assert.equal(
    explainMiss(r, { inputs: { sources: ["app/", "go.mod"], paths: {} }, parentKey: P }, false),
    "sources changed: `app/` → `app/ go.mod`",
  );
});

test("other inputs, and the pruned case when nothing differs", () => {
  const r = prev({ command: "make", other: { workdir: "/src", user: "root" } });
  assert.equal(
    explainMiss(r, { inputs: { command: "make", other: { workdir: "/app", user: "root" } }, parentKey: P }, false),
    "workdir changed: /src → /app",
  );
  assert.match(explainMiss(r, { inputs: r.step.inputs, parentKey: P }, false), /pruned/);
});

test("past the recorded cap a change is reported without a path", () => {
  const before = new Map([["a", "1"], ["b", "2"], ["c", "3"]]);
  const after = new Map([["a", "1"], ["b", "2"], ["c", "9"]]);
  const r = prev({ ...capPaths(before, 2), checksum: "x" });
  assert.deepEqual(r.step.inputs.paths, { a: "1", b: "2" });
  assert.equal(r.step.inputs.pathsTruncated, true);
  assert.equal(
    explainMiss(r, { inputs: { ...capPaths(after, 2), checksum: "y" }, parentKey: P }, false),
    "files changed (past the recorded paths)",
  );
});
