import { test } from "node:test";
import assert from "node:assert/strict";
import { apiHost, isLoopbackRegistry, parseReference } from "./reference.js";

const D = "sha256:" + "ab".repeat(32);

test("short names normalise to docker.io/library with tag latest", () => {
  const r = parseReference("alpine");
  assert.deepEqual([r.registry, r.repository, r.tag, r.digest], ["docker.io", "library/alpine", "latest", undefined]);
  assert.equal(r.toString(), "docker.io/library/alpine:latest");
  assert.equal(r.familiarName(), "alpine");
  assert.equal(r.familiarString(), "alpine:latest");
  assert.equal(apiHost(r.registry), "registry-1.docker.io");
});

test("user repositories on Docker Hub keep their path", () => {
  assert.equal(parseReference("user/app:1.2").toString(), "docker.io/user/app:1.2");
  assert.equal(parseReference("index.docker.io/library/busybox").toString(), "docker.io/library/busybox:latest");
  assert.equal(parseReference("docker.io/nginx").familiarName(), "nginx");
});

test("hosts are recognised by a dot, a port or localhost", () => {
  const a = parseReference("localhost:5000/x");
  assert.deepEqual([a.registry, a.repository, a.tag], ["localhost:5000", "x", "latest"]);
  const b = parseReference(`127.0.0.1:5000/x@${D}`);
  assert.deepEqual([b.registry, b.repository, b.tag, b.digest], ["127.0.0.1:5000", "x", undefined, D]);
  assert.equal(b.toString(), `127.0.0.1:5000/x@${D}`);
  assert.equal(b.familiarName(), "127.0.0.1:5000/x");
  assert.equal(parseReference("localhost/x").registry, "localhost");
  assert.equal(parseReference("ghcr.io/o/a/b:t").repository, "o/a/b");
  assert.equal(apiHost("ghcr.io"), "ghcr.io");
});

test("name:tag@digest keeps both; the digest is what is fetched", () => {
  const r = parseReference(`ghcr.io/o/app:v1@${D}`);
  assert.equal(r.tag, "v1");
  assert.equal(r.digest, D);
  assert.equal(r.object, D);
  assert.equal(r.toString(), `ghcr.io/o/app:v1@${D}`);
});

test("bad references give a clear registry/invalid-reference error", () => {
  const cases: [string, RegExp][] = [
    ["Alpine", /repository name must be lowercase/],
    ["docker.io/User/app", /must be lowercase/],
    ["alpine:bad tag", /bad tag/],
    ["alpine@sha256:abc", /bad digest/],
    ["ab".repeat(32), /64-byte hexadecimal/],
    ["", /empty/],
    ["a//b", /bad repository name/],
    ["x/" + "a".repeat(260), /not be more than 255/],
  ];
  for (const [input, why] of cases) {
    assert.throws(() => parseReference(input), (err: Error & { code?: string }) => {
      assert.equal(err.code, "registry/invalid-reference", input);
      assert.match(err.message, why, input);
      return true;
    });
  }
});

test("an uppercase first component is a registry host, as in distribution/reference", () => {
  assert.equal(parseReference("Registry.Example.com/app").registry, "Registry.Example.com");
});

test("loopback registries are insecure by default", () => {
  assert.ok(isLoopbackRegistry("localhost:5000"));
  assert.ok(isLoopbackRegistry("127.0.0.1:41234"));
  assert.ok(isLoopbackRegistry("[::1]:5000"));
  assert.ok(!isLoopbackRegistry("ghcr.io"));
  assert.ok(!isLoopbackRegistry("10.0.0.1:5000"));
});
