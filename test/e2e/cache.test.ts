/**
 * Acceptance (issue 5): the content cache seen from build(): full hits on no-op rebuilds, misses
 * from the first changed step on with the true reason, mtime-only changes ignored, build args
 * scoped to the stages that use them, --no-cache and --no-cache-filter.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeFixtureRoot, stepVertices, umociUnavailable, type FixtureRoot } from "../support/build-fixture.js";
import type { BuildOptions, BuildResult, VertexUpdate } from "../../src/index.js";

const skip = umociUnavailable();

const DOCKERFILE = [
  "FROM busybox AS a",
  "COPY a.txt /a.txt",
  "RUN cat /a.txt > /a-copy",
  "",
  "FROM busybox AS b",
  "ARG FLAVOR=plain",
  "RUN echo $FLAVOR > /flavor",
  "",
  "FROM busybox",
  "COPY --from=a /a-copy /a",
  "COPY --from=b /flavor /flavor",
  "COPY app/ /app/",
  "RUN ls /app > /app-list && cat /app/main.txt > /main-copy",
  "",
].join("\n");

const FILES = { "Dockerfile": DOCKERFILE, "a.txt": "stage a\n", "app/main.txt": "main v1\n", "app/other.txt": "other\n" };

type Run = { result: BuildResult; vertices: Map<string, VertexUpdate> };

/** Step vertices whose name matches, with their cache state. */
function states(run: Run): { name: string; cached: boolean; miss?: string }[] {
  return stepVertices(run.vertices).map((v) => ({ name: v.name, cached: v.cached === true, ...(v.cacheMiss ? { miss: v.cacheMiss } : {}) }));
}
function ran(run: Run): string[] {
  return states(run).filter((s) => !s.cached).map((s) => s.name);
}
function assertFullHit(run: Run): void {
  const s = run.result.stats;
  assert.ok(s.steps > 0);
  assert.equal(s.cached, s.steps, JSON.stringify(s.misses));
  assert.deepEqual(s.misses, []);
  assert.deepEqual(ran(run), []);
}

describe("build cache", { skip }, () => {
  let fx: FixtureRoot;
  let context: string;
  let first: Run;
  const build = (opts: Partial<BuildOptions> = {}) => fx.build({ context, tags: ["cache-e2e"], ...opts });
  /** Puts the context back as it was and checks the cache still has all of it. */
  const baseline = async () => {
    for (const [p, c] of Object.entries(FILES)) writeFileSync(join(context, p), c);
    assertFullHit(await build());
  };

  before(async () => {
    fx = await makeFixtureRoot();
    context = fx.context(FILES);
    first = await build();
  });
  after(() => fx?.cleanup());

  test("the first build runs every step, each miss saying there was no previous build", () => {
    assert.equal(first.result.stats.cached, 0);
    assert.equal(first.result.stats.steps, 7);
    for (const s of states(first)) assert.equal(s.cached, false, s.name);
    for (const m of first.result.stats.misses) assert.match(m.reason, /no previous build/);
  });

  test("a second build with nothing changed hits the cache for every step and gives the same image", async () => {
    const again = await build();
    assertFullHit(again);
    assert.equal(states(again).length, 7);
    assert.equal(again.result.digest, first.result.digest);
  });

  test("changing one copied file re-runs only the steps from that COPY on, naming the file", async () => {
    writeFileSync(join(context, "app/main.txt"), "main v2\n");
    const run = await build();
    assert.deepEqual(ran(run), ["[stage-2 4/5] COPY app/ /app/", "[stage-2 5/5] RUN ls /app > /app-list && cat /app/main.txt > /main-copy"]);
    const reasons = new Map(run.result.stats.misses.map((m) => [m.name, m.reason]));
    assert.match(reasons.get("[stage-2 4/5] COPY app/ /app/")!, /file changed: .*main\.txt/);
    assert.match(reasons.get("[stage-2 5/5] RUN ls /app > /app-list && cat /app/main.txt > /main-copy")!, /parent changed/);
    // The progress stream carries the same reasons.
    for (const s of states(run).filter((s) => !s.cached)) assert.equal(s.miss, reasons.get(s.name));
    assert.notEqual(run.result.digest, first.result.digest);
    await baseline();
  });

  test("touching mtimes only is still a full hit", async () => {
    const later = new Date(Date.now() + 3600_000);
    for (const p of Object.keys(FILES)) utimesSync(join(context, p), later, later);
    utimesSync(join(context, "app"), later, later);
    const run = await build();
    assertFullHit(run);
    assert.equal(run.result.digest, first.result.digest);
  });

  test("a build arg used only in stage b leaves stage a cached; b's miss names the arg", async () => {
    const run = await build({ buildArgs: { FLAVOR: "fancy" } });
    const names = ran(run);
    assert.ok(names.includes("[b 3/3] RUN echo $FLAVOR > /flavor"), names.join("\n"));
    assert.equal(names.some((n) => n.startsWith("[a ")), false, names.join("\n"));
    assert.ok(!names.includes("[stage-2 2/5] COPY --from=a /a-copy /a"));
    const reason = run.result.stats.misses.find((m) => m.name.startsWith("[b 3/3]"))!.reason;
    assert.match(reason, /FLAVOR/);
    const img = await fx.buildAndUnpack({ context, buildArgs: { FLAVOR: "fancy" } });
    assertFullHit(img);
    assert.equal(readFileSync(join(img.rootfs, "flavor"), "utf8"), "fancy\n");
  });

  test("--no-cache re-runs everything", async () => {
    const run = await build({ noCache: true });
    assert.equal(run.result.stats.cached, 0);
    assert.equal(ran(run).length, 7);
    for (const m of run.result.stats.misses) assert.match(m.reason, /no-cache/);
    await baseline();
  });

  test("noCacheFilter: [\"b\"] re-runs only stage b", async () => {
    const run = await build({ noCacheFilter: ["b"] });
    assert.deepEqual(ran(run), ["[b 3/3] RUN echo $FLAVOR > /flavor"]);
    assert.match(run.result.stats.misses[0]!.reason, /no-cache-filter b/);
  });
});
