/**
 * A build SIGKILLed in the middle of a RUN leaves no sandbox and no mount behind, its leftovers
 * (scratch dir, the uncommitted RUN snapshot) are removed by the next build, and the cache stays
 * usable: the next build of the same Dockerfile succeeds and a third is fully cached.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { makeFixtureRoot, type FixtureRoot } from "../support/build-fixture.js";
import { createSnapshotter } from "../../src/exec/snapshot/index.js";

const CHILD = fileURLToPath(new URL("./fixtures/build-once.ts", import.meta.url));
let fx: FixtureRoot;
before(async () => (fx = await makeFixtureRoot()));
after(() => fx?.cleanup());

function sandboxesWith(marker: string): number[] {
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

test("SIGKILL mid-RUN: nothing survives, the next build cleans up and succeeds", async () => {
  const marker = `killed-${process.pid}-${Date.now()}`;
  const ctx = fx.context({ Dockerfile: `FROM busybox\nRUN sleep 30; echo ${marker} > /m\n` });
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, fx.root, ctx, join(fx.dir, "killed.tar")], { stdio: "ignore" });
  // Wait until the RUN is really running inside its sandbox.
  for (let i = 0; i < 200 && sandboxesWith(marker).length === 0; i++) await sleep(50);
  assert.ok(sandboxesWith(marker).length > 0, "the RUN started");
  const scratch = readdirSync(join(fx.root, "tmp")).filter((n) => n.startsWith(`build-${child.pid}-`));
  assert.equal(scratch.length, 1, "the build has its scratch dir");
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  for (let i = 0; i < 100 && sandboxesWith(marker).length > 0; i++) await sleep(50);
  assert.deepEqual(sandboxesWith(marker), [], "no sandbox process survives");
  assert.ok(!readFileSync("/proc/self/mountinfo", "utf8").includes(fx.root), "no mount under the root is left");

  // The next build sweeps the killed build's leftovers, then runs the step for real.
  const ctxFast = fx.context({ Dockerfile: "FROM busybox\nRUN echo after > /after\n" });
  await fx.build({ context: ctxFast });
  assert.ok(!existsSync(join(fx.root, "tmp", scratch[0]!)), "the killed build's scratch dir is gone");
  const snapshotter = await createSnapshotter({ root: fx.root });
  const index = join(fx.root, "snapshots", "index");
  const orphans = readdirSync(index).map((f) => (JSON.parse(readFileSync(join(index, f), "utf8")) as { name: string }).name).filter((n) => n.startsWith(`run-${child.pid}-`));
  for (const name of orphans) assert.equal(await snapshotter.stat(name), undefined, `${name} was removed`);

  const again = await fx.build({ context: ctxFast });
  assert.equal(again.result.stats.cached, again.result.stats.steps, "the cache is consistent");
});
