/**
 * Acceptance (issue 5): two tsbuild processes building at once against one root both succeed,
 * and the cache they leave is valid: a third build is fully cached and its image unpacks.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeFixtureRoot, umociUnavailable, unpackOciTar, type FixtureRoot } from "../support/build-fixture.js";
import type { BuildStats } from "../../src/index.js";

const skip = umociUnavailable();
const CHILD = fileURLToPath(new URL("./fixtures/build-once.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../..", import.meta.url));

interface ChildResult {
  digest: string;
  stats: BuildStats;
}

function buildInChild(root: string, context: string, out: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, root, context, out], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`child build of ${context} exited ${code}:\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as ChildResult);
      } catch {
        reject(new Error(`child printed no result: ${stdout}\n${stderr}`));
      }
    });
  });
}

const shared = [
  "FROM busybox",
  "COPY shared.txt /shared.txt",
  "RUN sleep 0.2 && cat /shared.txt > /shared-copy && mkdir -p /work && echo ok > /work/ok",
];

describe("two tsbuild processes on one root", { skip }, () => {
  let fx: FixtureRoot;
  before(async () => {
    fx = await makeFixtureRoot();
  });
  after(() => fx?.cleanup());

  test("the same Dockerfile built twice at once: both succeed, same image, then a full hit", async () => {
    const files = { "Dockerfile": [...shared, "RUN echo same > /same.txt", ""].join("\n"), "shared.txt": "shared\n" };
    const ctx1 = fx.context(files);
    const ctx2 = fx.context(files);
    const [r1, r2] = await Promise.all([
      buildInChild(fx.root, ctx1, join(fx.dir, "same-1.tar")),
      buildInChild(fx.root, ctx2, join(fx.dir, "same-2.tar")),
    ]);
    assert.equal(r1.stats.steps, 3);
    assert.equal(r2.stats.steps, 3);
    const third = await fx.buildAndUnpack({ context: ctx1 });
    assert.equal(third.result.stats.cached, third.result.stats.steps, JSON.stringify(third.result.stats.misses));
    assert.equal(readFileSync(join(third.rootfs, "same.txt"), "utf8"), "same\n");
    assert.equal(readFileSync(join(third.rootfs, "work/ok"), "utf8"), "ok\n");
    // Each child's own export is a valid image too.
    for (const n of [1, 2]) {
      const img = unpackOciTar(join(fx.dir, `same-${n}.tar`), fx.context({}));
      assert.equal(readFileSync(join(img.rootfs, "shared-copy"), "utf8"), "shared\n");
    }
  });

  test("different Dockerfiles sharing steps, at once: both succeed and both stay cached", async () => {
    const ctxA = fx.context({ "Dockerfile": [...shared, "RUN echo a > /which.txt", ""].join("\n"), "shared.txt": "shared 2\n" });
    const ctxB = fx.context({ "Dockerfile": [...shared, "COPY b.txt /which.txt", ""].join("\n"), "shared.txt": "shared 2\n", "b.txt": "b\n" });
    const [a, b] = await Promise.all([
      buildInChild(fx.root, ctxA, join(fx.dir, "a.tar")),
      buildInChild(fx.root, ctxB, join(fx.dir, "b.tar")),
    ]);
    assert.notEqual(a.digest, b.digest);
    for (const [ctx, which] of [[ctxA, "a\n"], [ctxB, "b\n"]] as const) {
      const img = await fx.buildAndUnpack({ context: ctx });
      assert.equal(img.result.stats.cached, img.result.stats.steps, JSON.stringify(img.result.stats.misses));
      assert.equal(readFileSync(join(img.rootfs, "which.txt"), "utf8"), which);
      assert.equal(readFileSync(join(img.rootfs, "shared-copy"), "utf8"), "shared 2\n");
    }
  });
});
