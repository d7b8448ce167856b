import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openContentStore } from "./content-store.js";
import { writeOciLayout, writeOciTar, readLayoutIndex } from "./oci-layout.js";
import { writeDockerArchive } from "./docker-archive.js";
import { storeTestImage } from "./test-support.js";

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), "tsbuild-out-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function umociUnpack(layout: string, tag: string, bundle: string): void {
  const rootless = process.getuid?.() === 0 ? [] : ["--rootless"];
  run("umoci", ["unpack", ...rootless, "--image", `${layout}:${tag}`, bundle]);
}

test("OCI layout directory passes umoci, skopeo and oci-image-tool", async (t) => {
  const d = tmp(t);
  const store = openContentStore(join(d, "content"));
  const img = await storeTestImage(store, { "hello.txt": "hello world\n", "etc/motd": "motd\n" });
  const layout = join(d, "layout");
  const entries = await writeOciLayout(layout, {
    store,
    manifests: [{ descriptor: img.descriptor, imageName: "docker.io/library/app:v1" }],
  });
  assert.equal(entries[0]!.annotations!["org.opencontainers.image.ref.name"], "v1");
  assert.equal(entries[0]!.annotations!["io.containerd.image.name"], "docker.io/library/app:v1");
  assert.deepEqual(JSON.parse(readFileSync(join(layout, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });

  umociUnpack(layout, "v1", join(d, "bundle"));
  assert.equal(readFileSync(join(d, "bundle", "rootfs", "hello.txt"), "utf8"), "hello world\n");
  const info = JSON.parse(run("skopeo", ["inspect", `oci:${layout}:v1`]));
  assert.equal(info.Digest, img.descriptor.digest);
  assert.equal(info.Layers.length, 1);
  const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${layout}:v1`]));
  assert.deepEqual(cfg.config.Cmd, ["/bin/sh"]);
  run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=v1", layout]);

  // a second write with another tag adds to index.json and skips existing blobs
  const img2 = await storeTestImage(store, { "two.txt": "2\n" });
  await writeOciLayout(layout, { store, manifests: [{ descriptor: img2.descriptor, refName: "two" }] });
  await writeOciLayout(layout, { store, manifests: [{ descriptor: img.descriptor, refName: "v1", imageName: "docker.io/library/app:v1" }] });
  const names = readLayoutIndex(layout).manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]);
  assert.deepEqual(names.sort(), ["two", "v1"]);
  // blobs are hardlinked from the store when on the same filesystem
  const blob = img.manifest.layers[0]!.digest.slice(7);
  assert.equal(statSync(join(layout, "blobs", "sha256", blob)).ino, statSync(store.blobPath(img.manifest.layers[0]!.digest)).ino);
  umociUnpack(layout, "two", join(d, "bundle2"));
  assert.equal(readFileSync(join(d, "bundle2", "rootfs", "two.txt"), "utf8"), "2\n");
});

test("OCI tar is deterministic and passes skopeo oci-archive and umoci after extraction", async (t) => {
  const d = tmp(t);
  const store = openContentStore(join(d, "content"));
  const img = await storeTestImage(store, { "a.txt": "a\n" });
  const a = join(d, "a.tar");
  const b = join(d, "b.tar");
  const opts = { store, manifests: [{ descriptor: img.descriptor, imageName: "example.com/team/app:1.0" }] };
  await writeOciTar(a, opts);
  await writeOciTar(b, opts);
  assert.deepEqual(readFileSync(a), readFileSync(b));
  const list = execFileSync("tar", ["-tvf", a], { encoding: "utf8" }).trim().split("\n");
  const names = list.map((l) => l.split(/\s+/).at(-1));
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes("blobs/sha256/"));
  assert.ok(list.every((l) => l.includes("1970-01-01")), "fixed mtimes");
  assert.ok(list.filter((l) => l.includes("blobs/sha256/") && !l.endsWith("/")).every((l) => l.startsWith("-r--r--r--")));

  const info = JSON.parse(run("skopeo", ["inspect", `oci-archive:${a}:1.0`]));
  assert.equal(info.Digest, img.descriptor.digest);
  const x = join(d, "x");
  mkdirSync(x);
  execFileSync("tar", ["-xf", a, "-C", x]);
  umociUnpack(x, "1.0", join(d, "bundle"));
  assert.equal(readFileSync(join(d, "bundle", "rootfs", "a.txt"), "utf8"), "a\n");
});

test("docker-archive has manifest.json, repositories and a layout, and passes skopeo", async (t) => {
  const d = tmp(t);
  const store = openContentStore(join(d, "content"));
  const img = await storeTestImage(store, { "d.txt": "docker\n" }, { mediaTypes: "docker" });
  const file = join(d, "img.tar");
  await writeDockerArchive(file, { store, images: [{ manifest: img.descriptor, repoTags: ["app", "docker.io/library/app:2"] }] });
  const x = join(d, "x");
  mkdirSync(x);
  execFileSync("tar", ["-xf", file, "-C", x]);
  const manifest = JSON.parse(readFileSync(join(x, "manifest.json"), "utf8")) as { Config: string; Layers: string[] }[];
  assert.deepEqual(manifest, [
    {
      Config: `blobs/sha256/${img.configDescriptor.digest.slice(7)}`,
      RepoTags: ["app:latest", "app:2"],
      Layers: [`blobs/sha256/${img.manifest.layers[0]!.digest.slice(7)}`],
    },
  ]);
  for (const p of [manifest[0]!.Config, ...manifest[0]!.Layers]) assert.ok(existsSync(join(x, p)), p);
  const repos = JSON.parse(readFileSync(join(x, "repositories"), "utf8"));
  assert.deepEqual(Object.keys(repos.app ?? {}).sort(), ["2", "latest"]);
  const info = JSON.parse(run("skopeo", ["inspect", `docker-archive:${file}`]));
  assert.deepEqual(info.RepoTags, []); // skopeo lists registry tags only; check the layer set instead
  assert.equal(info.Layers.length, 1);
  const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `docker-archive:${file}:app:2`]));
  // skopeo copy reads every blob and checks its digest
  run("skopeo", ["copy", "-q", `docker-archive:${file}:app:latest`, `oci:${join(d, "copied")}:x`]);
  assert.ok(existsSync(join(d, "copied", "index.json")));
  assert.deepEqual(cfg.rootfs.diff_ids, img.config.rootfs.diff_ids);
  // umoci reads OCI media types only; the layout part of a docker-archive with them must unpack
  const ociImg = await storeTestImage(store, { "o.txt": "oci\n" });
  const file2 = join(d, "img2.tar");
  await writeDockerArchive(file2, { store, manifest: ociImg.descriptor, repoTags: ["app:oci"] });
  const x2 = join(d, "x2");
  mkdirSync(x2);
  execFileSync("tar", ["-xf", file2, "-C", x2]);
  umociUnpack(x2, "oci", join(d, "bundle"));
  assert.equal(readFileSync(join(d, "bundle", "rootfs", "o.txt"), "utf8"), "oci\n");
  assert.equal(JSON.parse(run("skopeo", ["inspect", `docker-archive:${file2}`])).Layers.length, 1);
});
