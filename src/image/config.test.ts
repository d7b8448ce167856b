import { test } from "node:test";
import assert from "node:assert/strict";
import { sha256Digest } from "../internal/digest.js";
import { addHistory, appendLayer, configDigest, newImage, newImageConfig, serializeConfig, withConfig, withSourceDateEpoch } from "./config.js";
import { buildIndex, buildManifest } from "./manifest.js";
import type { Image } from "./types.js";

const layer = (n: number) => ({
  diffId: sha256Digest(`diff${n}`),
  descriptor: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Digest(`blob${n}`), size: 100 + n },
});

function sample(epoch = 1700000000): Image {
  let img = newImage({ os: "linux", architecture: "arm64", variant: "v8" });
  img = appendLayer(img, { ...layer(1), history: { created_by: "RUN a # buildkit", comment: "buildkit.dockerfile.v0" } });
  let cfg = withConfig(img.config, {
    Env: ["PATH=/bin", "A=1"],
    Entrypoint: ["/entry"],
    Cmd: ["run"],
    WorkingDir: "/app",
    User: "1000:1000",
    ExposedPorts: { "80/tcp": {} },
    Volumes: { "/data": {} },
    Labels: { b: "2", a: "1" },
    StopSignal: "SIGTERM",
    Healthcheck: { Test: ["CMD", "true"], Interval: 30e9 },
    Shell: ["/bin/sh", "-c"],
    OnBuild: ["RUN echo hi"],
  });
  cfg = addHistory(cfg, { created_by: "ENV A=1", comment: "buildkit.dockerfile.v0" }, { emptyLayer: true });
  img = appendLayer({ ...img, config: cfg }, { ...layer(2), history: { created_by: "COPY . /app # buildkit" } });
  return { ...img, config: withSourceDateEpoch(img.config, epoch) };
}

test("same inputs give byte-identical config and manifest and digests", () => {
  const a = buildManifest(sample());
  const b = buildManifest(sample());
  assert.deepEqual(Buffer.from(a.configBytes), Buffer.from(b.configBytes));
  assert.deepEqual(Buffer.from(a.manifestBytes), Buffer.from(b.manifestBytes));
  assert.equal(a.descriptor.digest, b.descriptor.digest);
  assert.equal(a.configDescriptor.digest, sha256Digest(a.configBytes));
  assert.equal(a.descriptor.digest, sha256Digest(a.manifestBytes));
  // a different epoch changes the config digest and so the manifest digest
  const c = buildManifest(sample(1700000001));
  assert.notEqual(c.configDescriptor.digest, a.configDescriptor.digest);
  assert.notEqual(c.descriptor.digest, a.descriptor.digest);
});

test("config keeps every field, history with empty_layer, diff_ids in order, epoch times", () => {
  const cfg = JSON.parse(Buffer.from(buildManifest(sample(86400)).configBytes).toString());
  assert.equal(cfg.created, "1970-01-02T00:00:00Z");
  assert.equal(cfg.architecture, "arm64");
  assert.equal(cfg.variant, "v8");
  assert.equal(cfg.os, "linux");
  assert.deepEqual(cfg.rootfs, { type: "layers", diff_ids: [layer(1).diffId, layer(2).diffId] });
  assert.deepEqual(cfg.config.Healthcheck, { Test: ["CMD", "true"], Interval: 30e9 });
  assert.deepEqual(cfg.config.Shell, ["/bin/sh", "-c"]);
  assert.deepEqual(cfg.config.OnBuild, ["RUN echo hi"]);
  assert.equal(cfg.config.StopSignal, "SIGTERM");
  assert.deepEqual(cfg.config.ExposedPorts, { "80/tcp": {} });
  assert.deepEqual(
    cfg.history.map((h: { empty_layer?: boolean; created: string }) => [h.empty_layer ?? false, h.created]),
    [
      [false, "1970-01-02T00:00:00Z"],
      [true, "1970-01-02T00:00:00Z"],
      [false, "1970-01-02T00:00:00Z"],
    ],
  );
  // layers without empty_layer match diff_ids, as the spec requires
  assert.equal(cfg.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer).length, cfg.rootfs.diff_ids.length);
});

test("builders never change their input", () => {
  const base = newImageConfig({ os: "linux", architecture: "amd64" });
  const snapshot = JSON.stringify(base);
  const patched = withConfig(base, { Env: ["X=1"] });
  addHistory(base, { created_by: "x" });
  appendLayer({ config: base, layers: [] }, layer(1));
  assert.equal(JSON.stringify(base), snapshot);
  assert.deepEqual(patched.config.Env, ["X=1"]);
  const removed = withConfig(patched, { Env: undefined, Cmd: ["sh"] });
  assert.equal(removed.config.Env, undefined);
  assert.deepEqual(removed.config.Cmd, ["sh"]);
  assert.notEqual(configDigest(base), configDigest(patched));
  assert.equal(serializeConfig(base).byteLength > 0, true);
});

test("OCI media types by default, Docker schema2 on request", () => {
  const oci = buildManifest(sample());
  assert.equal(oci.manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.equal(oci.manifest.config.mediaType, "application/vnd.oci.image.config.v1+json");
  assert.equal(oci.manifest.layers[0]!.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  const docker = buildManifest(sample(), { mediaTypes: "docker", annotations: { a: "b" } });
  assert.equal(docker.manifest.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  assert.equal(docker.descriptor.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  assert.equal(docker.manifest.config.mediaType, "application/vnd.docker.container.image.v1+json");
  assert.equal(docker.manifest.layers[1]!.mediaType, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  assert.equal(docker.manifest.annotations, undefined);
  // same config bytes either way: only the descriptors differ
  assert.equal(docker.configDescriptor.digest, oci.configDescriptor.digest);
  const zstd: Image = { ...sample(), layers: sample().layers.map((l) => ({ ...l, mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" })) };
  assert.throws(() => buildManifest(zstd, { mediaTypes: "docker" }), { code: "image/zstd-needs-oci" });
  const idx = buildIndex([{ ...oci.descriptor, platform: { os: "linux", architecture: "arm64" } }]);
  assert.equal(idx.index.manifests[0]!.platform!.architecture, "arm64");
  assert.equal(idx.descriptor.digest, sha256Digest(idx.indexBytes));
});

test("a mismatch between layers and diff_ids is refused", () => {
  const img = sample();
  assert.throws(() => buildManifest({ ...img, layers: img.layers.slice(1) }), { code: "image/layer-count" });
});
