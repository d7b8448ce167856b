import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { main } from "../main.js";
import type { CliIo } from "../command.js";

function capture(cwd: string, stdin = "", env: NodeJS.ProcessEnv = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c) => (stdout += c));
  err.on("data", (c) => (stderr += c));
  const io: CliIo = { stdout: out, stderr: err, stdin: Readable.from([stdin]), env, cwd };
  return { io, get stdout() { return stdout; }, get stderr() { return stderr; } };
}

const DOCKERFILE = `ARG BASE=busybox
FROM $BASE AS tools
FROM scratch AS unused
FROM alpine AS build
ARG VERSION
COPY --from=tools /bin/sh /sh
FROM build
`;

function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbuild-plan-"));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test("plan prints needed stages in order, from CONTEXT/Dockerfile", withDir({ Dockerfile: DOCKERFILE }, async (dir) => {
  const c = capture(dir);
  assert.equal(await main(["plan", "--build-arg", "BASE=debian", "--build-arg", "NOPE=1", "."], c.io), 0);
  const lines = c.stdout.trim().split("\n");
  assert.equal(lines[0], "target: stage 3 (" + lines[0]!.split("(")[1]);
  assert.deepEqual(lines.slice(1), [
    "stage 0 tools: FROM debian",
    "stage 2 build: FROM alpine needs copy:0",
    "stage 3: FROM stage 2 needs from:2",
    "unused build args: NOPE",
  ]);
}));

test("plan --format json, Containerfile fallback, --target and bare --build-arg from env", withDir({ Containerfile: DOCKERFILE }, async (dir) => {
  const c = capture(dir, "", { VERSION: "7" });
  assert.equal(await main(["plan", "--format", "json", "--target", "BUILD", "--build-arg", "VERSION", "--platform", "linux/arm64", dir], c.io), 0);
  const plan = JSON.parse(c.stdout);
  assert.deepEqual(plan.target, { index: 2, name: "build" });
  assert.equal(plan.platform, "linux/arm64");
  assert.deepEqual(plan.stages.map((s: { index: number }) => s.index), [0, 2]);
  assert.deepEqual(plan.buildArgs, { VERSION: "7" });
  assert.deepEqual(plan.unusedBuildArgs, []);
  assert.equal(plan.metaArgs.TARGETARCH, "arm64");
}));

test("plan -f - reads stdin; errors carry the location", withDir({}, async (dir) => {
  const c = capture(dir, "FROM alpine\nRUNN echo\n");
  assert.equal(await main(["plan", "-f", "-"], c.io), 1);
  assert.match(c.stderr, /Dockerfile:2:1: unknown instruction: RUNN \(did you mean RUN\?\)/);
}));

test("plan rejects unknown flags with a suggestion", withDir({}, async (dir) => {
  const c = capture(dir);
  assert.equal(await main(["plan", "--targt", "x"], c.io), 2);
  assert.match(c.stderr, /unknown flag --targt.*did you mean --target\?/);
}));
