/**
 * Acceptance (issue 5): with SOURCE_DATE_EPOCH (the option or the environment variable), two cold
 * builds in two fresh roots give the same image digest and the same `type=oci` tar bytes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { makeFixtureRoot, umociUnavailable, type FixtureRoot } from "../support/build-fixture.js";

const skip = umociUnavailable();
const EPOCH = 1_700_000_000;

// The RUN gives a file a random future mtime, and the two contexts' files get different mtimes:
// the digests can only match if every time in the layers is clamped to SOURCE_DATE_EPOCH.
const FILES = {
  "Dockerfile": [
    "FROM busybox AS build",
    "COPY src/ /src/",
    "RUN mkdir /out && cat /src/* > /out/all && touch -d \"@$(( 1900000000 + $(od -An -N2 -tu2 /dev/urandom) ))\" /out/all",
    "",
    "FROM busybox",
    "WORKDIR /app",
    "COPY --from=build /out/all ./all",
    "COPY src/one.txt ./",
    "ENV MODE=release",
    "CMD [\"cat\", \"/app/all\"]",
    "",
  ].join("\n"),
  "src/one.txt": "one\n",
  "src/two.txt": "two\n",
};

describe("reproducible builds with SOURCE_DATE_EPOCH", { skip }, () => {
  let fx1: FixtureRoot;
  let fx2: FixtureRoot;
  before(async () => {
    [fx1, fx2] = await Promise.all([makeFixtureRoot(), makeFixtureRoot()]);
  });
  after(() => {
    fx1?.cleanup();
    fx2?.cleanup();
  });

  test("two cold builds in fresh roots give the same digest and the same OCI tar bytes", async () => {
    const ctx1 = fx1.context(FILES);
    const ctx2 = fx2.context(FILES);
    for (const [ctx, t] of [[ctx1, EPOCH + 1000], [ctx2, EPOCH + 5000]] as const) {
      for (const p of ["src/one.txt", "src/two.txt"]) utimesSync(join(ctx, p), t, t);
    }
    const a = await fx1.buildAndUnpack({ context: ctx1, sourceDateEpoch: EPOCH });
    const b = await fx2.buildAndUnpack({ context: ctx2, env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
    assert.equal(a.result.stats.cached, 0);
    assert.equal(b.result.stats.cached, 0);
    assert.equal(a.result.digest, b.result.digest);
    assert.equal(a.result.configDigest, b.result.configDigest);
    const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
    assert.equal(sha(join(a.layout, "..", "image.tar")), sha(join(b.layout, "..", "image.tar")));
    assert.equal(a.config.created, new Date(EPOCH * 1000).toISOString().replace(/\.000Z$/, "Z"));
    for (const h of a.config.history ?? []) if (h.created) assert.ok(Date.parse(h.created) <= EPOCH * 1000, h.created);
    assert.equal(readFileSync(join(a.rootfs, "app/all"), "utf8"), "one\ntwo\n");
  });

  test("without SOURCE_DATE_EPOCH the same two builds differ (the check above can fail)", async () => {
    const ctx1 = fx1.context(FILES);
    const ctx2 = fx2.context(FILES);
    utimesSync(join(ctx1, "src/one.txt"), EPOCH + 1000, EPOCH + 1000);
    utimesSync(join(ctx2, "src/one.txt"), EPOCH + 5000, EPOCH + 5000);
    const env = { ...process.env };
    delete env.SOURCE_DATE_EPOCH;
    const a = await fx1.build({ context: ctx1, env });
    const b = await fx2.build({ context: ctx2, env });
    assert.notEqual(a.result.digest, b.result.digest);
  });
});
