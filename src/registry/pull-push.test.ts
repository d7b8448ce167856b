// End to end against Debian's real docker-registry: push, pull back, skopeo, tampering, platforms.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openContentStore, type ContentStore } from "../image/content-store.js";
import { sha256Digest } from "../internal/digest.js";
import { startRegistry, registryUnavailable, type TestRegistry } from "../../test/support/registry.js";
import { makeImage, makeIndex } from "./testdata/make-image.js";
import { pullImage, pushImage, RegistryClient, RegistryError, type TransferEvent } from "./index.js";
import { expectStatus } from "./client.js";

const skip = registryUnavailable();

function tempStore(dirs: string[]): ContentStore {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-reg-store-"));
  dirs.push(dir);
  return openContentStore(dir);
}

/** A fetch that records every request it makes, so tests can see what went over the wire. */
function recordingFetch(log: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    log.push(`${init?.method ?? "GET"} ${url.pathname}`);
    return fetch(input, init);
  };
}

describe("push and pull against docker-registry", { skip }, () => {
  let reg: TestRegistry;
  const dirs: string[] = [];
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("push, then pull back by tag and by digest into a fresh store", async () => {
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "hello.txt": "hello\n" }, { "etc/motd": "second layer\n" }] });
    const events: TransferEvent[] = [];
    const pushed = await pushImage({ store: src, ref: `${reg.host}/app:v1`, descriptor: img.descriptor, onProgress: (e) => events.push(e) });
    assert.equal(pushed.digest, img.descriptor.digest);
    assert.equal(pushed.reference, `${reg.host}/app:v1@${img.descriptor.digest}`);
    assert.equal(events.filter((e) => e.kind === "blob-done").length, 3);

    const dst = tempStore(dirs);
    const byTag = await pullImage(`${reg.host}/app:v1`, { store: dst });
    assert.equal(byTag.reference, `${reg.host}/app:v1`);
    assert.equal(byTag.digest, img.descriptor.digest);
    assert.equal(sha256Digest(byTag.manifestBytes), img.descriptor.digest);
    assert.deepEqual(byTag.layers, img.layers);
    assert.equal(byTag.config.architecture, "amd64");
    for (const l of img.layers) {
      assert.deepEqual(readFileSync(dst.blobPath(l.digest)), readFileSync(src.blobPath(l.digest)));
    }
    assert.ok(dst.has(img.descriptor.digest), "manifest kept in the store");

    const dst2 = tempStore(dirs);
    const byDigest = await pullImage(`${reg.host}/app@${img.descriptor.digest}`, { store: dst2 });
    assert.equal(byDigest.digest, img.descriptor.digest);
    assert.deepEqual(byDigest.config, img.config);
  });

  test("a second pull downloads no blob, and a second push uploads none", async () => {
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "a.txt": "again\n" }] });
    await pushImage({ store: src, ref: `${reg.host}/again:1`, descriptor: img.descriptor });
    const dst = tempStore(dirs);
    await pullImage(`${reg.host}/again:1`, { store: dst });

    const log: string[] = [];
    const events: TransferEvent[] = [];
    const again = await pullImage(`${reg.host}/again:1`, { store: dst, fetch: recordingFetch(log), onProgress: (e) => events.push(e) });
    assert.equal(again.digest, img.descriptor.digest);
    assert.deepEqual(log.filter((l) => l.includes("/blobs/")), []);
    assert.equal(events.filter((e) => e.kind === "blob-exists").length, 2);

    const pushLog: string[] = [];
    await pushImage({ store: src, ref: `${reg.host}/again:1`, descriptor: img.descriptor, fetch: recordingFetch(pushLog) });
    assert.deepEqual(pushLog.filter((l) => !l.startsWith("HEAD")), [`PUT /v2/again/manifests/1`]);
  });

  test("chunked upload sends PATCH requests and the result pulls back intact", async () => {
    const src = tempStore(dirs);
    const big = randomBytes(20_000); // random bytes do not compress, so the layer spans many chunks
    const img = await makeImage(src, { layers: [{ "big.bin": big }] });
    const log: string[] = [];
    await pushImage({ store: src, ref: `${reg.host}/chunked:1`, descriptor: img.descriptor, chunkSize: 1000, fetch: recordingFetch(log) });
    const layerSize = img.layers[0]!.size;
    assert.ok(layerSize > 2000, `layer is ${layerSize} bytes`);
    assert.equal(log.filter((l) => l.startsWith("PATCH")).length, Math.ceil(layerSize / 1000));
    const dst = tempStore(dirs);
    const pulled = await pullImage(`${reg.host}/chunked:1`, { store: dst });
    assert.equal(sha256Digest(readFileSync(dst.blobPath(pulled.layers[0]!.digest))), img.layers[0]!.digest);
  });

  test("cross-repository mount: blobs from another repository are mounted, not uploaded", async () => {
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "m.txt": "mount me\n" }] });
    await pushImage({ store: src, ref: `${reg.host}/mount-src:1`, descriptor: img.descriptor });
    const log: string[] = [];
    const events: TransferEvent[] = [];
    await pushImage({
      store: src,
      ref: `${reg.host}/mount-dst:1`,
      descriptor: img.descriptor,
      mountFrom: `${reg.host}/mount-src`,
      fetch: recordingFetch(log),
      onProgress: (e) => events.push(e),
    });
    assert.equal(events.filter((e) => e.kind === "blob-mounted").length, 2);
    assert.equal(log.filter((l) => l.startsWith("PUT /v2/mount-dst/blobs") || l.startsWith("PATCH")).length, 0);
    const pulled = await pullImage(`${reg.host}/mount-dst:1`, { store: tempStore(dirs) });
    assert.equal(pulled.digest, img.descriptor.digest);
  });

  test("skopeo copies and inspects what was pushed", { skip: spawnSync("skopeo", ["--version"]).status === 0 ? false : "skopeo not installed" }, async () => {
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "s.txt": "for skopeo\n" }] });
    await pushImage({ store: src, ref: `${reg.host}/skopeo:t`, descriptor: img.descriptor });
    const out = mkdtempSync(join(tmpdir(), "tsbuild-skopeo-"));
    dirs.push(out);
    const copy = spawnSync("skopeo", ["--insecure-policy", "copy", "--src-tls-verify=false", `docker://${reg.host}/skopeo:t`, `oci:${out}:t`], { encoding: "utf8" });
    assert.equal(copy.status, 0, copy.stderr);
    const layoutIndex = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    assert.equal(layoutIndex.manifests[0]?.digest, img.descriptor.digest);
    const inspect = spawnSync("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/skopeo:t`], { encoding: "utf8" });
    assert.equal(inspect.status, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[] };
    assert.equal(info.Digest, img.descriptor.digest);
    assert.deepEqual(info.Layers, [img.layers[0]!.digest]);
  });

  test("Docker schema2 media types round-trip too", async () => {
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "d.txt": "docker\n" }], docker: true });
    await pushImage({ store: src, ref: `${reg.host}/docker-types:1`, descriptor: img.descriptor });
    const pulled = await pullImage(`${reg.host}/docker-types:1`, { store: tempStore(dirs) });
    assert.equal(pulled.manifestDescriptor.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    assert.equal(pulled.digest, img.descriptor.digest);
  });

  test("an index with two platforms: the requested platform's manifest is selected", async () => {
    const src = tempStore(dirs);
    const amd = await makeImage(src, { layers: [{ "arch.txt": "amd64\n" }], platform: { os: "linux", architecture: "amd64" } });
    const arm = await makeImage(src, { layers: [{ "arch.txt": "arm64\n" }], platform: { os: "linux", architecture: "arm64", variant: "v8" } });
    const idx = await makeIndex(src, [
      { image: amd, platform: { os: "linux", architecture: "amd64" } },
      { image: arm, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ]);
    await pushImage({ store: src, ref: `${reg.host}/multi:1`, descriptor: idx.descriptor });

    const armStore = tempStore(dirs);
    const gotArm = await pullImage(`${reg.host}/multi:1`, { store: armStore, platform: { os: "linux", architecture: "arm64" } });
    assert.equal(gotArm.digest, arm.descriptor.digest);
    assert.equal(gotArm.indexDigest, idx.descriptor.digest);
    assert.equal(gotArm.config.architecture, "arm64");
    assert.ok(!armStore.has(amd.layers[0]!.digest), "the other platform's layer is not downloaded");

    const gotAmd = await pullImage(`${reg.host}/multi:1`, { store: tempStore(dirs), platform: { os: "linux", architecture: "x86_64" } });
    assert.equal(gotAmd.digest, amd.descriptor.digest);

    await assert.rejects(pullImage(`${reg.host}/multi:1`, { store: tempStore(dirs), platform: { os: "linux", architecture: "s390x" } }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "registry/no-matching-platform");
      assert.match(err.message, /linux\/s390x.*linux\/amd64, linux\/arm64/);
      return true;
    });
  });

  test("a blob tampered with in the registry's storage is rejected by digest", async () => {
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "t.txt": "tamper with me\n" }] });
    await pushImage({ store: src, ref: `${reg.host}/tamper:1`, descriptor: img.descriptor });
    const layer = img.layers[0]!;
    const path = reg.blobDataPath(layer.digest);
    const bytes = readFileSync(path);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff; // same size, different content
    writeFileSync(path, bytes);
    assert.equal(statSync(path).size, layer.size);
    const dst = tempStore(dirs);
    await assert.rejects(pullImage(`${reg.host}/tamper:1`, { store: dst }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "registry/digest-mismatch");
      assert.match(err.message, new RegExp(layer.digest));
      return true;
    });
    assert.ok(!dst.has(layer.digest), "the bad blob is not stored");
  });

  test("pulling a tag that does not exist names the registry error", async () => {
    await assert.rejects(pullImage(`${reg.host}/nothing:here`, { store: tempStore(dirs) }), (err: Error & { code?: string }) => {
      assert.match(err.code ?? "", /^registry\//);
      assert.match(err.message, /MANIFEST_UNKNOWN|NAME_UNKNOWN/);
      return true;
    });
  });

  test("the registry's JSON error code and message are kept in the error", async () => {
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "x.txt": "x\n" }] });
    // A manifest naming a layer the registry has never seen: the registry answers MANIFEST_BLOB_UNKNOWN.
    const bogus = { ...img.manifest, layers: [{ ...img.layers[0]!, digest: sha256Digest("never uploaded"), size: 14 }] };
    const client = new RegistryClient();
    const ep = client.origin(reg.host);
    const res = await client.request(ep, {
      method: "PUT",
      path: "/v2/errors/manifests/1",
      headers: { "Content-Type": img.descriptor.mediaType },
      body: Buffer.from(JSON.stringify(bogus)),
      scopes: [],
    });
    await assert.rejects(expectStatus(res, [201], "push manifest", `${reg.host}/errors`), (err: RegistryError) => {
      assert.equal(err.code, "registry/manifest-blob-unknown");
      assert.equal(err.registryCode, "MANIFEST_BLOB_UNKNOWN");
      assert.equal(err.status, 400);
      assert.match(err.message, /push manifest: HTTP 400: MANIFEST_BLOB_UNKNOWN: blob unknown to registry/);
      return true;
    });
  });
});

describe("push to a registry with htpasswd auth", { skip }, () => {
  let reg: TestRegistry;
  const dirs: string[] = [];
  before(async () => {
    reg = await startRegistry({ auth: { username: "alice", password: "s3cret" } });
  });
  after(async () => {
    await reg?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function dockerConfig(auths: object): string {
    const dir = mkdtempSync(join(tmpdir(), "tsbuild-dockercfg-"));
    dirs.push(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify(auths));
    return dir;
  }

  test("credentials from config.json push and pull", async () => {
    const cfg = dockerConfig({ auths: { [reg.host]: { auth: Buffer.from("alice:s3cret").toString("base64") } } });
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "p.txt": "private\n" }] });
    const pushed = await pushImage({ store: src, ref: `${reg.host}/private:1`, descriptor: img.descriptor, dockerConfigDir: cfg });
    assert.equal(pushed.digest, img.descriptor.digest);
    const pulled = await pullImage(`${reg.host}/private:1`, { store: tempStore(dirs), dockerConfigDir: cfg });
    assert.equal(pulled.digest, img.descriptor.digest);
  });

  test("a wrong password gives a clear registry/unauthorized error", async () => {
    const cfg = dockerConfig({ auths: { [reg.host]: { username: "alice", password: "wrong" } } });
    const src = tempStore(dirs);
    const img = await makeImage(src, { layers: [{ "p.txt": "nope\n" }] });
    await assert.rejects(pushImage({ store: src, ref: `${reg.host}/private:2`, descriptor: img.descriptor, dockerConfigDir: cfg }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "registry/unauthorized");
      assert.match(err.message, new RegExp(`authentication required for ${reg.host}/private: check your credentials \\(docker login\\)`));
      return true;
    });
  });

  test("no credentials at all is the same clear error on pull", async () => {
    const cfg = dockerConfig({});
    await assert.rejects(pullImage(`${reg.host}/private:1`, { store: tempStore(dirs), dockerConfigDir: cfg }), { code: "registry/unauthorized" });
  });
});

describe("registry mirrors", { skip }, () => {
  let origin: TestRegistry;
  let mirror: TestRegistry;
  const dirs: string[] = [];
  before(async () => {
    [origin, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  });
  after(async () => {
    await Promise.all([origin?.stop(), mirror?.stop()]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("a mirror is tried first; the origin answers what the mirror lacks", async () => {
    const src = tempStore(dirs);
    const onMirror = await makeImage(src, { layers: [{ "m.txt": "on the mirror\n" }] });
    const onOrigin = await makeImage(src, { layers: [{ "o.txt": "only at the origin\n" }] });
    // The mirror holds the repository under the origin's name, as a pull-through cache would.
    await pushImage({ store: src, ref: `${mirror.host}/lib/app:1`, descriptor: onMirror.descriptor });
    await pushImage({ store: src, ref: `${origin.host}/lib/app:2`, descriptor: onOrigin.descriptor });
    const mirrors = { [origin.host]: [mirror.url] };

    const log: string[] = [];
    const recording: typeof fetch = (input, init) => {
      log.push(new URL(input instanceof Request ? input.url : input.toString()).host);
      return fetch(input, init);
    };
    const fromMirror = await pullImage(`${origin.host}/lib/app:1`, { store: tempStore(dirs), mirrors, fetch: recording });
    assert.equal(fromMirror.digest, onMirror.descriptor.digest);
    assert.ok(log.length > 0 && log.every((h) => h === mirror.host), log.join(","));

    const fromOrigin = await pullImage(`${origin.host}/lib/app:2`, { store: tempStore(dirs), mirrors });
    assert.equal(fromOrigin.digest, onOrigin.descriptor.digest);
  });
});
