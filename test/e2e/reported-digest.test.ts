import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { makeFixtureRoot, type FixtureRoot } from "../support/build-fixture.js";

let fx: FixtureRoot;
before(async () => (fx = await makeFixtureRoot()));
after(() => fx?.cleanup());

test("the digest a build reports is the manifest its OCI export holds, as BuildKit reports it", async () => {
  const ctx = fx.context({ Dockerfile: "FROM busybox\nRUN echo x > /x\n" });
  const out = join(fx.dir, "reported");
  mkdirSync(out);
  const { result } = await fx.build({ context: ctx, tags: ["reported:1"], outputs: [`type=oci,dest=${out},tar=false`] });
  const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]!.digest, result.digest);
  assert.equal(result.metadata["containerimage.digest"], result.digest);
  const manifest = JSON.parse(execFileSync("cat", [join(out, "blobs/sha256", result.digest.slice(7))], { encoding: "utf8" })) as { config: { digest: string } };
  assert.equal(manifest.config.digest, result.configDigest);

  // Without an export the local store's manifest is reported; the image ID (config digest) is the same.
  const { result: local } = await fx.build({ context: ctx, tags: ["reported:1"] });
  assert.equal(local.configDigest, result.configDigest);
});
