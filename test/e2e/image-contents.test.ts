/**
 * Acceptance (issue 5): multi-stage builds exported as OCI, unpacked by umoci, and checked for
 * files, modes, owners, whiteouts, config and history.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeFixtureRoot, umociUnavailable, type FixtureRoot, type Unpacked } from "../support/build-fixture.js";

const skip = umociUnavailable();

describe("image contents after umoci unpack", { skip }, () => {
  let fx: FixtureRoot;
  let img: Unpacked;
  before(async () => {
    fx = await makeFixtureRoot();
    const context = fx.context({
      "Dockerfile": [
        "FROM busybox AS builder",
        "RUN mkdir -p /out && echo built > /out/artifact && echo zero > /zero",
        "",
        "FROM busybox",
        "LABEL org.example.stage=final",
        "ENV APP_HOME=/srv/app GREETING=hello",
        "WORKDIR $APP_HOME",
        "COPY --from=builder /out/artifact ./artifact",
        "COPY --from=0 /zero /zero",
        "COPY --chown=app:app owned.txt ./owned-by-name.txt",
        "COPY --chown=1000:1000 owned.txt ./owned-by-id.txt",
        "COPY --chmod=0755 tool.sh /usr/local/bin/tool",
        "COPY --chmod=u+x,g-r,o-r plain.txt ./symbolic.txt",
        "RUN rm /bin/vi && echo ran > ran.txt",
        "USER app",
        "EXPOSE 8080/tcp 53/udp",
        "VOLUME /data",
        "HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD [\"true\"]",
        "STOPSIGNAL SIGINT",
        "ENTRYPOINT [\"/usr/local/bin/tool\"]",
        "CMD [\"--help\"]",
        "",
      ].join("\n"),
      "owned.txt": "owned\n",
      "tool.sh": { content: "#!/bin/sh\necho tool\n", mode: 0o644 },
      "plain.txt": { content: "plain\n", mode: 0o644 },
    });
    img = await fx.buildAndUnpack({ context, tags: ["contents:latest"] });
  });
  after(() => fx?.cleanup());

  test("files from other stages by name and by index", () => {
    assert.equal(readFileSync(join(img.rootfs, "srv/app/artifact"), "utf8"), "built\n");
    assert.equal(readFileSync(join(img.rootfs, "zero"), "utf8"), "zero\n");
    assert.equal(readFileSync(join(img.rootfs, "srv/app/ran.txt"), "utf8"), "ran\n");
  });

  test("--chown by name and by id, --chmod octal and symbolic", () => {
    for (const f of ["owned-by-name.txt", "owned-by-id.txt"]) {
      const st = lstatSync(join(img.rootfs, "srv/app", f));
      assert.deepEqual([st.uid, st.gid], [1000, 1000], f);
    }
    assert.equal(lstatSync(join(img.rootfs, "usr/local/bin/tool")).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(img.rootfs, "srv/app/symbolic.txt")).mode & 0o7777, 0o700);
    // Files copied without --chown belong to root.
    assert.equal(lstatSync(join(img.rootfs, "srv/app/artifact")).uid, 0);
  });

  test("a RUN that deletes a base file leaves a whiteout in its layer", () => {
    assert.equal(existsSync(join(img.rootfs, "bin/vi")), false);
    assert.ok(existsSync(join(img.rootfs, "bin/ls")));
    const runLayer = img.layerEntries(-1);
    assert.ok(runLayer.some((e) => /(^|\/)bin\/\.wh\.vi$/.test(e)), `no .wh.vi in ${runLayer.join(", ")}`);
  });

  test("config keeps Env, Cmd, Entrypoint, WorkingDir, User, ports, labels, healthcheck, stop signal, volumes", () => {
    const c = img.config.config;
    assert.ok(c.Env?.includes("APP_HOME=/srv/app"));
    assert.ok(c.Env?.includes("GREETING=hello"));
    assert.ok(c.Env?.some((e) => e.startsWith("PATH=")), "PATH from the base image is kept");
    assert.deepEqual(c.Cmd, ["--help"]);
    assert.deepEqual(c.Entrypoint, ["/usr/local/bin/tool"]);
    assert.equal(c.WorkingDir, "/srv/app");
    assert.equal(c.User, "app");
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ["53/udp", "8080/tcp"]);
    assert.equal(c.Labels?.["org.example.stage"], "final");
    assert.deepEqual(c.Healthcheck?.Test, ["CMD", "true"]);
    assert.equal(c.Healthcheck?.Interval, 30e9);
    assert.equal(c.Healthcheck?.Timeout, 5e9);
    assert.equal(c.Healthcheck?.Retries, 2);
    assert.equal(c.StopSignal, "SIGINT");
    assert.deepEqual(Object.keys(c.Volumes ?? {}), ["/data"]);
  });

  test("history: one entry per instruction, empty_layer on metadata ones, non-empty entries == layers", () => {
    const history = img.config.history ?? [];
    const nonEmpty = history.filter((h) => !h.empty_layer);
    assert.equal(nonEmpty.length, img.layers.length);
    assert.equal(img.config.rootfs.diff_ids.length, img.layers.length);
    // WORKDIR makes its directory in a layer of its own, as in BuildKit.
    // The busybox fixture's history comes first; this stage adds one entry per instruction after FROM.
    const keywords = ["LABEL", "ENV", "WORKDIR", "COPY", "COPY", "COPY", "COPY", "COPY", "COPY", "RUN", "USER", "EXPOSE", "VOLUME", "HEALTHCHECK", "STOPSIGNAL", "ENTRYPOINT", "CMD"];
    const own = history.slice(history.length - keywords.length);
    assert.deepEqual(own.map((h) => /\b([A-Z]{3,})\b/.exec(h.created_by ?? "")?.[1]), keywords, JSON.stringify(own, null, 1));
    for (const h of own) assert.equal(h.empty_layer === true, !/^(COPY|RUN|WORKDIR)$/.test(/\b([A-Z]{3,})\b/.exec(h.created_by ?? "")![1]!), h.created_by);
    assert.equal(history.length - keywords.length, 1, "the busybox fixture has one history entry");
  });
});

describe("multi-stage selection", { skip }, () => {
  let fx: FixtureRoot;
  before(async () => {
    fx = await makeFixtureRoot();
  });
  after(() => fx?.cleanup());

  const dockerfile = [
    "FROM busybox AS broken",
    "RUN false",
    "",
    "FROM busybox AS base",
    "RUN echo base > /base.txt",
    "",
    "FROM base AS dev",
    "RUN echo dev > /dev.txt",
    "",
    "FROM base AS prod",
    "RUN echo prod > /prod.txt",
    "",
  ].join("\n");

  test("a stage the target does not need never runs (its RUN false would fail)", async () => {
    const img = await fx.buildAndUnpack({ context: fx.context({ Dockerfile: dockerfile }) });
    assert.equal(readFileSync(join(img.rootfs, "prod.txt"), "utf8"), "prod\n");
    assert.equal(readFileSync(join(img.rootfs, "base.txt"), "utf8"), "base\n");
    assert.equal(existsSync(join(img.rootfs, "dev.txt")), false);
    assert.ok(![...img.vertices.keys()].some((n) => n.includes("RUN false")), "RUN false was scheduled");
  });

  test("--target picks an intermediate stage", async () => {
    const img = await fx.buildAndUnpack({ context: fx.context({ Dockerfile: dockerfile }), target: "dev" });
    assert.equal(readFileSync(join(img.rootfs, "dev.txt"), "utf8"), "dev\n");
    assert.equal(existsSync(join(img.rootfs, "prod.txt")), false);
  });

  test("--target of the failing stage does fail (the test above can fail)", async () => {
    await assert.rejects(fx.build({ context: fx.context({ Dockerfile: dockerfile }), target: "broken" }));
  });
});
