/**
 * real-packages: a Debian base made by fixtures/make-debian-base.ts (mmdebstrap, once, reused),
 * then `apt-get install` of a few small packages and a COPY of an app: cold and warm (no-op).
 * The RUN reaches Debian's mirror, so its time depends on the network as well.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDebianBase, mmdebstrapUnavailable } from "../../fixtures/make-debian-base.js";
import { ensureContext, writeTree } from "./contexts.js";
import type { Scenario } from "./scenarios.js";

export const realPackages: Scenario = {
  name: "real-packages",
  summary: "Debian minbase (mmdebstrap) + apt-get install jq tree file + COPY of a 200-file app: cold, no-op",
  async bases(work) {
    const archive = join(work, "bases", "debian.tar");
    const name = "bench-base/debian:bookworm";
    if (existsSync(archive)) return { archive, name };
    const why = mmdebstrapUnavailable();
    if (why) return { skip: why };
    try {
      return { archive: (await makeDebianBase({ outDir: join(work, "bases") })).archive, name };
    } catch (err) {
      return { skip: `make-debian-base failed: ${(err as Error).message.slice(0, 300)}` };
    }
  },
  prepare(work) {
    const dir = join(work, "ctx", "real-packages");
    const tree = ensureContext(dir, "real-packages-v1", (d) => writeTree(d, { seed: 3, files: 200, totalBytes: 2 << 20 }));
    const df = join(dir, "Dockerfile");
    writeFileSync(
      df,
      [
        "FROM bench-base/debian:bookworm",
        "RUN apt-get update && apt-get install -y --no-install-recommends jq tree file && rm -rf /var/lib/apt/lists/*",
        "COPY . /app/",
        "RUN jq --version && tree -d /app | tail -1",
        "",
      ].join("\n"),
    );
    return { context: dir, dockerfile: df, bytes: tree.bytes, files: tree.files.length };
  },
  variants: () => [
    { name: "cold", kind: "cold" },
    { name: "no-op", kind: "warm" },
  ],
};
