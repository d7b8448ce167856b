import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync, createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { openImageStore } from "./image-store.js";
import { loadImageArchive, saveImage } from "./image-archive.js";
import { loadOciLayoutImage, parseOciLayoutRef } from "./base-image-local.js";
import { writeOciLayout } from "./oci-layout.js";
import { openContentStore } from "./content-store.js";
import { buildIndex } from "./manifest.js";
import { storeTestImage, tarOf } from "./test-support.js";
import { normalizeImageName, familiarName } from "./image-name.js";
import { sha256Digest } from "../internal/digest.js";

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), "tsbuild-store-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("names are normalised like Docker", () => {
  assert.equal(normalizeImageName("app"), "docker.io/library/app:latest");
  assert.equal(normalizeImageName("user/app:1"), "docker.io/user/app:1");
  assert.equal(normalizeImageName("localhost:5000/x"), "localhost:5000/x:latest");
  assert.equal(normalizeImageName("ghcr.io/o/r:t"), "ghcr.io/o/r:t");
  assert.equal(familiarName("docker.io/library/app:latest"), "app:latest");
  assert.throws(() => normalizeImageName("App"), { code: "usage" });
});

test("put, get, tag, list and remove", async (t) => {
  const root = tmp(t);
  const images = openImageStore(root);
  const img = await storeTestImage(images.content, { f: "1" });
  images.put("app", img.descriptor);
  assert.equal(images.get("docker.io/library/app:latest")?.descriptor.digest, img.descriptor.digest);
  images.tag("app", "ghcr.io/me/app:v2");
  assert.deepEqual(images.list().map((r) => r.name), ["docker.io/library/app:latest", "ghcr.io/me/app:v2"]);
  assert.throws(() => images.tag("nope", "x"), { code: "image/not-found" });
  assert.equal(images.remove("app")?.name, "docker.io/library/app:latest");
  assert.equal(images.remove("app"), undefined);
  // a fresh handle sees the same file
  assert.deepEqual(openImageStore(root).list().map((r) => r.name), ["ghcr.io/me/app:v2"]);
});

test("concurrent writers in separate processes lose no names", async (t) => {
  const root = tmp(t);
  const images = openImageStore(root);
  const img = await storeTestImage(images.content, { f: "1" });
  const script = join(root, "writer.mts");
  const storeUrl = new URL("./image-store.ts", import.meta.url).href;
  writeFileSync(
    script,
    `import { openImageStore } from ${JSON.stringify(storeUrl)};
     const s = openImageStore(process.argv[2]);
     for (let i = 0; i < 15; i++) s.put(\`w\${process.argv[3]}:t\${i}\`, JSON.parse(process.argv[4]));`,
  );
  const procs = [0, 1, 2, 3].map(
    (w) =>
      new Promise<number>((res) =>
        spawn(process.execPath, ["--import", "tsx", script, root, String(w), JSON.stringify(img.descriptor)], {
          stdio: "inherit",
          cwd: fileURLToPath(new URL("../..", import.meta.url)),
        }).on("exit", (c) => res(c ?? 1)),
      ),
  );
  assert.deepEqual(await Promise.all(procs), [0, 0, 0, 0]);
  assert.equal(images.list().length, 60);
});

test("save → load round trip in docker and OCI formats keeps digests and names", async (t) => {
  const d = tmp(t);
  const a = openImageStore(join(d, "a"));
  const img = await storeTestImage(a.content, { "x.txt": "x\n" });
  a.put("app:1", img.descriptor);
  a.put("other/app:2", img.descriptor);
  for (const format of ["docker", "oci"] as const) {
    const file = join(d, `out-${format}.tar`);
    await saveImage(["app:1", "other/app:2"], file, { root: join(d, "a"), format });
    const rootB = join(d, `b-${format}`);
    const loaded = await loadImageArchive(file, { root: rootB });
    assert.deepEqual(loaded.map((l) => l.name).sort(), ["docker.io/library/app:1", "docker.io/other/app:2"]);
    const b = openImageStore(rootB);
    assert.equal(b.get("app:1")?.descriptor.digest, img.descriptor.digest, format);
    for (const blob of [img.descriptor.digest, img.configDescriptor.digest, img.manifest.layers[0]!.digest]) {
      assert.ok(b.content.has(blob), `${format}: ${blob}`);
    }
  }
  await assert.rejects(saveImage(["missing"], join(d, "m.tar"), { root: join(d, "a") }), { code: "image/not-found" });
});

test("load accepts a gzip-compressed archive streamed in, and rejects a corrupted blob", async (t) => {
  const d = tmp(t);
  const a = openImageStore(join(d, "a"));
  const img = await storeTestImage(a.content, { "y.txt": "y\n" });
  a.put("gz:1", img.descriptor);
  const file = join(d, "x.tar");
  await saveImage(["gz:1"], file, { root: join(d, "a") });
  writeFileSync(join(d, "x.tar.gz"), gzipSync(readFileSync(file)));
  const loaded = await loadImageArchive(createReadStream(join(d, "x.tar.gz")), { root: join(d, "b") });
  assert.equal(loaded[0]?.name, "docker.io/library/gz:1");

  // flip one byte of the config blob inside the tar: the loader must notice
  const x = join(d, "x");
  mkdirSync(x);
  execFileSync("tar", ["-xf", file, "-C", x]);
  const cfgPath = join(x, "blobs", "sha256", img.configDescriptor.digest.slice(7));
  const bytes = readFileSync(cfgPath);
  bytes[5] = bytes[5]! ^ 1;
  rmSync(cfgPath, { force: true });
  writeFileSync(cfgPath, bytes);
  execFileSync("tar", ["-cf", join(d, "bad.tar"), "-C", x, "."]);
  await assert.rejects(loadImageArchive(join(d, "bad.tar"), { root: join(d, "c") }), { code: "store/digest-mismatch" });
  assert.equal(openImageStore(join(d, "c")).list().length, 0);
});

test("load reads a legacy docker save tar (<id>/layer.tar, <id>.json)", async (t) => {
  const d = tmp(t);
  const layer = await tarOf({ "legacy.txt": "old\n" });
  const diffId = sha256Digest(layer);
  const config = JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["sh"] }, rootfs: { type: "layers", diff_ids: [diffId] } });
  const cfgHex = sha256Digest(config).slice(7);
  const x = join(d, "legacy");
  mkdirSync(join(x, "abc"), { recursive: true });
  writeFileSync(join(x, "abc", "layer.tar"), layer);
  writeFileSync(join(x, "abc", "VERSION"), "1.0");
  writeFileSync(join(x, `${cfgHex}.json`), config);
  writeFileSync(join(x, "manifest.json"), JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: ["legacy:1"], Layers: ["abc/layer.tar"] }]));
  writeFileSync(join(x, "repositories"), JSON.stringify({ legacy: { "1": "abc" } }));
  execFileSync("tar", ["-cf", join(d, "legacy.tar"), "-C", x, "."]);
  const [l] = await loadImageArchive(join(d, "legacy.tar"), { root: join(d, "r") });
  assert.equal(l?.name, "docker.io/library/legacy:1");
  const store = openImageStore(join(d, "r"));
  const manifest = JSON.parse((await store.content.readBlob(l!.descriptor.digest)).toString());
  assert.equal(manifest.config.digest, `sha256:${cfgHex}`);
  assert.equal(manifest.layers[0].digest, diffId);
  assert.equal(manifest.layers[0].mediaType, "application/vnd.docker.image.rootfs.diff.tar");
  // and it can be saved again as an archive skopeo accepts
  await saveImage(["legacy:1"], join(d, "again.tar"), { root: join(d, "r") });
  const r = spawnSync("skopeo", ["inspect", "--config", `docker-archive:${join(d, "again.tar")}`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).rootfs.diff_ids, [diffId]);
});

test("oci-layout base image: by tag, by digest, the only one, and an index resolved to a platform", async (t) => {
  const d = tmp(t);
  const src = openContentStore(join(d, "src"));
  const amd = await storeTestImage(src, { "amd.txt": "amd\n" });
  const other = await storeTestImage(src, { "other.txt": "o\n" });
  const layout = join(d, "layout");
  await writeOciLayout(layout, { store: src, manifests: [{ descriptor: amd.descriptor, refName: "latest" }, { descriptor: other.descriptor, refName: "other" }] });
  const store = openContentStore(join(d, "dst"));
  const byTag = await loadOciLayoutImage(layout, { store, ref: "other" });
  assert.equal(byTag.descriptor.digest, other.descriptor.digest);
  assert.ok(store.has(other.manifest.layers[0]!.digest));
  const byDigest = await loadOciLayoutImage(layout, { store, ref: `@${amd.descriptor.digest}` });
  assert.deepEqual(byDigest.config.config.Cmd, ["/bin/sh"]);
  await assert.rejects(loadOciLayoutImage(layout, { store, ref: "nope" }), { code: "image/not-found" });

  // an index with two platforms: pick one
  const idx = buildIndex([
    { ...amd.descriptor, platform: { os: "linux", architecture: "amd64" } },
    { ...other.descriptor, platform: { os: "linux", architecture: "arm64" } },
  ]);
  await src.writeBlob(idx.indexBytes);
  const layout2 = join(d, "layout2");
  await writeOciLayout(layout2, { store: src, manifests: [{ descriptor: idx.descriptor }] });
  const store2 = openContentStore(join(d, "dst2"));
  const arm = await loadOciLayoutImage(layout2, { store: store2, platform: { os: "linux", architecture: "arm64" } });
  assert.equal(arm.descriptor.digest, other.descriptor.digest);
  assert.equal(arm.selected.digest, idx.descriptor.digest);
  assert.equal(store2.has(amd.manifest.layers[0]!.digest), false, "only the chosen platform's layers are copied");
  await assert.rejects(loadOciLayoutImage(layout2, { store: store2, platform: { os: "linux", architecture: "s390x" } }), {
    code: "image/no-matching-platform",
  });
  assert.deepEqual(parseOciLayoutRef("oci-layout:///x/y:tag"), { dir: "/x/y", ref: "tag" });
  assert.deepEqual(parseOciLayoutRef(`oci-layout://./l@${amd.descriptor.digest}`), { dir: "./l", ref: `@${amd.descriptor.digest}` });
});
