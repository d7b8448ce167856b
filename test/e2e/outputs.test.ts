/** Every output format of a build, checked by the real tools users would point at it. */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { makeFixtureRoot, umociUnavailable, type FixtureRoot } from "../support/build-fixture.js";

let fx: FixtureRoot;
let out: string;
const skip = umociUnavailable();

before(async () => {
  if (skip) return;
  fx = await makeFixtureRoot();
  out = join(fx.dir, "outputs");
  mkdirSync(out);
  const ctx = fx.context({ Dockerfile: "FROM busybox\nCOPY hello.txt /srv/hello.txt\nRUN echo built > /srv/built\nCMD [\"cat\", \"/srv/hello.txt\"]\n", "hello.txt": "hello\n" });
  await fx.build({
    context: ctx,
    tags: ["outputs/app:1"],
    outputs: [
      `type=docker,dest=${join(out, "docker.tar")}`,
      `type=oci,dest=${join(out, "layout")},tar=false`,
      `type=oci,dest=${join(out, "oci.tar")},compression=zstd`,
      `type=local,dest=${join(out, "local")}`,
      `type=tar,dest=${join(out, "fs.tar")}`,
    ],
  });
});
after(() => fx?.cleanup());

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("type=docker writes a docker-archive that skopeo reads, tagged with the build's name", { skip }, () => {
  const info = JSON.parse(run("skopeo", ["inspect", `docker-archive:${join(out, "docker.tar")}`])) as { Layers: string[]; Env: string[] };
  assert.equal(info.Layers.length, 3);
  assert.ok(info.Env.some((e) => e.startsWith("PATH=")));
  const manifest = JSON.parse(run("tar", ["-xOf", join(out, "docker.tar"), "manifest.json"])) as { RepoTags: string[] }[];
  assert.deepEqual(manifest[0]!.RepoTags, ["outputs/app:1"]);
});

test("type=oci,tar=false writes a layout umoci unpacks and skopeo inspects", { skip }, () => {
  const layout = join(out, "layout");
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  assert.equal(index.manifests[0]!.annotations["org.opencontainers.image.ref.name"], "1");
  assert.equal(index.manifests[0]!.annotations["io.containerd.image.name"], "docker.io/outputs/app:1");
  const info = JSON.parse(run("skopeo", ["inspect", `oci:${layout}:1`])) as { Digest: string };
  assert.equal(info.Digest, index.manifests[0]!.digest);
  run("umoci", ["unpack", "--image", `${layout}:1`, join(out, "bundle")]);
  assert.equal(readFileSync(join(out, "bundle/rootfs/srv/hello.txt"), "utf8"), "hello\n");
  assert.equal(readFileSync(join(out, "bundle/rootfs/srv/built"), "utf8"), "built\n");
});

test("compression=zstd gives zstd layers that skopeo accepts", { skip }, () => {
  const info = JSON.parse(run("skopeo", ["inspect", "--raw", `oci-archive:${join(out, "oci.tar")}:1`])) as { layers: { mediaType: string }[] };
  const own = info.layers.slice(1).map((l) => l.mediaType);
  assert.deepEqual(own, ["application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.oci.image.layer.v1.tar+zstd"]);
});

test("type=local and type=tar write the final filesystem", { skip }, () => {
  assert.equal(readFileSync(join(out, "local/srv/hello.txt"), "utf8"), "hello\n");
  assert.ok(existsSync(join(out, "local/bin/busybox")));
  const listing = run("tar", ["-tf", join(out, "fs.tar")]).split("\n");
  assert.ok(listing.includes("./srv/built"), "fs.tar holds the RUN's file");
});
