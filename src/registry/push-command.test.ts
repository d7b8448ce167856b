// `tsbuild push` end to end: an image in the local image store goes to a real docker-registry.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { main } from "../cli/main.js";
import { openImageStore } from "../image/image-store.js";
import { openContentStore } from "../image/content-store.js";
import { registryUnavailable, startRegistry, type TestRegistry } from "../../test/support/registry.js";
import { makeImage } from "./testdata/make-image.js";
import { pullImage } from "./index.js";

function capture(root: string) {
  const out = { stdout: "", stderr: "" };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (c: Buffer) => (out.stdout += c.toString()));
  stderr.on("data", (c: Buffer) => (out.stderr += c.toString()));
  const env = { ...process.env, TSBUILD_ROOT: root, DOCKER_CONFIG: join(root, "no-docker-config") };
  return { out, io: { stdout, stderr, stdin: new PassThrough(), env, cwd: root } };
}

describe("tsbuild push", { skip: registryUnavailable() }, () => {
  let reg: TestRegistry;
  const dirs: string[] = [];
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("pushes a named image from the local store; pulling it back gives the same digest", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsbuild-push-cli-"));
    dirs.push(root);
    const images = openImageStore(root);
    const img = await makeImage(images.content, { layers: [{ "cli.txt": "from the cli\n" }] });
    images.put(`${reg.host}/cli/app:v2`, img.descriptor);

    const { out, io } = capture(root);
    const code = await main(["push", `${reg.host}/cli/app:v2`], io);
    assert.equal(code, 0, out.stderr);
    assert.equal(out.stdout, `v2: digest: ${img.descriptor.digest} size: ${img.descriptor.size}\n`);
    assert.match(out.stderr, /The push refers to repository \[127\.0\.0\.1:\d+\/cli\/app\]/);
    assert.equal(out.stderr.match(/: Pushed/g)?.length, 2);

    const dst = mkdtempSync(join(tmpdir(), "tsbuild-push-cli-dst-"));
    dirs.push(dst);
    const pulled = await pullImage(`${reg.host}/cli/app:v2`, { store: openContentStore(dst) });
    assert.equal(pulled.digest, img.descriptor.digest);

    const again = capture(root);
    assert.equal(await main(["push", "-q", `${reg.host}/cli/app:v2`], again.io), 0);
    assert.equal(again.out.stdout, `${img.descriptor.digest}\n`);
  });

  test("an unknown image and a bad name are clear errors", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsbuild-push-cli-"));
    dirs.push(root);
    const a = capture(root);
    assert.equal(await main(["push", `${reg.host}/missing:1`], a.io), 1);
    assert.match(a.out.stderr, /no such image: 127\.0\.0\.1:\d+\/missing:1/);
    const b = capture(root);
    assert.equal(await main(["push", "Bad/Name"], b.io), 1);
    assert.match(b.out.stderr, /repository name must be lowercase/);
    const c = capture(root);
    assert.equal(await main(["push"], c.io), 2);
  });
});
