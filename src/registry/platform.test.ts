import { test } from "node:test";
import assert from "node:assert/strict";
import type { Descriptor } from "../image/types.js";
import { normalizePlatform, parsePlatform, selectManifest } from "./platform.js";

const d = (n: number, platform: Descriptor["platform"], annotations?: Record<string, string>): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: n,
  platform,
  ...(annotations ? { annotations } : {}),
});

test("names are normalised like containerd's", () => {
  assert.deepEqual(normalizePlatform({ os: "Linux", architecture: "x86_64" }), { os: "linux", architecture: "amd64" });
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "aarch64", variant: "8" }), { os: "linux", architecture: "arm64" });
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "arm" }), { os: "linux", architecture: "arm", variant: "v7" });
  assert.deepEqual(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64" });
});

test("arm64 with and without v8 match each other; attestations never match", () => {
  const list = [d(1, { os: "unknown", architecture: "unknown" }, { "vnd.docker.reference.type": "attestation-manifest" }), d(2, { os: "linux", architecture: "amd64" }), d(3, { os: "linux", architecture: "arm64", variant: "v8" })];
  assert.equal(selectManifest(list, { os: "linux", architecture: "arm64" })?.size, 3);
  assert.equal(selectManifest(list, { os: "linux", architecture: "amd64" })?.size, 2);
  assert.equal(selectManifest(list, { os: "unknown", architecture: "unknown" }), undefined);
  assert.equal(selectManifest(list, { os: "windows", architecture: "amd64" }), undefined);
});

test("arm v7 prefers v7, then falls back to the closest older variant, never a newer one", () => {
  const v5 = d(5, { os: "linux", architecture: "arm", variant: "v5" });
  const v6 = d(6, { os: "linux", architecture: "arm", variant: "v6" });
  const v7 = d(7, { os: "linux", architecture: "arm", variant: "v7" });
  const want = { os: "linux", architecture: "arm", variant: "v7" };
  assert.equal(selectManifest([v5, v6, v7], want)?.size, 7);
  assert.equal(selectManifest([v5, v6], want)?.size, 6);
  assert.equal(selectManifest([v7], { os: "linux", architecture: "arm", variant: "v6" }), undefined);
});
