/**
 * The package as another tool uses it: `import { build } from "tsbuild"` from a project whose
 * node_modules/tsbuild links to this repository (the compiled dist/ through package.json's
 * exports). An AbortSignal fired mid-RUN rejects with CancelledError, leaves no sandbox process
 * and no mount behind, and the next build on the same root succeeds.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";
import { makeFixture, ensureBuiltPackage, REPO, type Fixture } from "../cli/support.js";

type Tsbuild = typeof import("../../src/index.js");

let fx: Fixture;
let ctx: string;
let tsbuild: Tsbuild;
const marker = `abort-marker-${randomBytes(6).toString("hex")}`;

before(async () => {
  fx = await makeFixture("tsbuild-api-");
  ensureBuiltPackage();
  const project = join(fx.dir, "consumer");
  mkdirSync(join(project, "node_modules"), { recursive: true });
  symlinkSync(REPO, join(project, "node_modules", "tsbuild"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  writeFileSync(join(project, "use.mjs"), 'export * from "tsbuild";\n');
  tsbuild = (await import(pathToFileURL(join(project, "use.mjs")).href)) as Tsbuild;
  ctx = join(fx.dir, "ctx");
  mkdirSync(ctx);
  writeFileSync(join(ctx, "Dockerfile"), ["FROM busybox", "ARG ROUNDS=30", `RUN echo started-${marker} && i=0 && while [ $i -lt $ROUNDS ]; do sleep 1; i=$((i+1)); done`, ""].join("\n"));
});
after(() => fx.cleanup());

/** Processes whose command line names the marker (the RUN's shell is the sandbox's init). */
function survivors(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(marker) || cmd.includes(fx.root)) found.push(`${pid}: ${cmd}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

test("the package exports build() and the error classes", () => {
  assert.equal(typeof tsbuild.build, "function");
  assert.equal(typeof tsbuild.CancelledError, "function");
  assert.ok(readFileSync(join(REPO, "dist/src/index.d.ts"), "utf8").includes("export { build }"));
});

test("aborting mid-RUN rejects with CancelledError and leaves no process or mount behind; a rebuild succeeds", async () => {
  const controller = new AbortController();
  let sawStart = false;
  const pending = tsbuild.build({
    context: ctx,
    root: fx.root,
    signal: controller.signal,
    onProgress: (s) => {
      const text = s.logs.map((l) => Buffer.from(l.data).toString()).join("");
      if (!sawStart && text.includes(`started-${marker}`)) {
        sawStart = true;
        assert.ok(survivors().length > 0, "the RUN's process is visible while it runs");
        controller.abort();
      }
    },
  });
  await assert.rejects(pending, (err: unknown) => {
    assert.ok(err instanceof tsbuild.CancelledError, `expected CancelledError, got ${String(err)}`);
    assert.equal(err.code, "cancelled");
    return true;
  });
  assert.ok(sawStart, "the abort fired while the RUN was running");
  assert.deepEqual(survivors(), []);
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(fx.root));
  assert.deepEqual(mounts, []);

  const result = await tsbuild.build({ context: ctx, root: fx.root, buildArgs: ["ROUNDS=0"], tags: ["after-abort:1"] });
  assert.match(result.configDigest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(result.names, ["docker.io/library/after-abort:1"]);
  assert.equal(result.stats.misses.length, 1, "only the RUN (new ROUNDS) ran; FROM came from the cache");
});
