import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, readFileSync, writeFileSync, createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { spawnSync } from "node:child_process";
import { main } from "../main.js";
import type { CliIo } from "../command.js";
import { openImageStore } from "../../image/index.js";
import { storeTestImage } from "../../image/test-support.js";

function io(cwd: string, opts: { stdin?: Readable; tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  const errs: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  err.on("data", (c: Buffer) => errs.push(c));
  const stdout = Object.assign(out, { isTTY: opts.tty ?? false });
  const value: CliIo = { stdout, stderr: err, stdin: opts.stdin ?? Readable.from([]), env: opts.env ?? {}, cwd };
  return { io: value, stdout: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString(), stderr: () => Buffer.concat(errs).toString() };
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), "tsbuild-cli-img-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("images, tag, save, load and rmi through main()", async (t) => {
  const d = tmp(t);
  const root = join(d, "root");
  const store = openImageStore(root);
  const img = await storeTestImage(store.content, { "c.txt": "cli\n" });
  store.put("app:1", img.descriptor);

  let c = io(d);
  assert.equal(await main(["tag", "--root", root, "app:1", "ghcr.io/me/app:2"], c.io), 0);

  c = io(d);
  assert.equal(await main(["images", "--root", root], c.io), 0);
  const lines = c.text().trimEnd().split("\n");
  assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  const id = img.configDescriptor.digest.slice(7, 19);
  assert.match(lines[1]!, new RegExp(`^app\\s+1\\s+${id}\\s+\\d+ years ago\\s+\\d+B$`));
  assert.match(lines[2]!, new RegExp(`^ghcr.io/me/app\\s+2\\s+${id}\\s`));
  c = io(d, { env: { TSBUILD_ROOT: root } });
  assert.equal(await main(["images", "-q"], c.io), 0);
  assert.equal(c.text(), `${id}\n`);

  // save to a file, and to stdout when it is not a terminal
  c = io(d);
  assert.equal(await main(["save", "--root", root, "app:1", "ghcr.io/me/app:2", "-o", "out.tar"], c.io), 0);
  const r = spawnSync("skopeo", ["inspect", "--config", `docker-archive:${join(d, "out.tar")}:ghcr.io/me/app:2`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  c = io(d);
  assert.equal(await main(["save", "--root", root, "--format", "oci", "app:1"], c.io), 0);
  writeFileSync(join(d, "stdout.tar"), c.stdout());
  const r2 = spawnSync("skopeo", ["inspect", `oci-archive:${join(d, "stdout.tar")}:1`], { encoding: "utf8" });
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).Digest, img.descriptor.digest);
  c = io(d, { tty: true });
  assert.equal(await main(["save", "--root", root, "app:1"], c.io), 2);
  assert.match(c.stderr(), /refusing to save to a terminal/);

  // load into a fresh root, from a file and from stdin
  const root2 = join(d, "root2");
  c = io(d);
  assert.equal(await main(["load", "--root", root2, "-i", "out.tar"], c.io), 0);
  assert.equal(c.text(), "Loaded image: app:1\nLoaded image: ghcr.io/me/app:2\n");
  const root3 = join(d, "root3");
  c = io(d, { stdin: createReadStream(join(d, "stdout.tar")) });
  assert.equal(await main(["load", "--root", root3], c.io), 0);
  assert.equal(c.text(), "Loaded image: app:1\n");
  assert.equal(openImageStore(root3).get("app:1")?.descriptor.digest, img.descriptor.digest);

  // rmi
  c = io(d);
  assert.equal(await main(["rmi", "--root", root2, "app:1", "nope"], c.io), 1);
  assert.equal(c.text(), "Untagged: app:1\n");
  assert.match(c.stderr(), /No such image: nope/);
  assert.deepEqual(openImageStore(root2).list().map((x) => x.name), ["ghcr.io/me/app:2"]);
  assert.ok(readFileSync(join(d, "out.tar")).length > 0);
});

test("usage errors exit 2", async (t) => {
  const d = tmp(t);
  for (const argv of [["tag", "--root", d, "only-one"], ["save", "--root", d], ["images", "--bogus"], ["save", "--root", d, "x", "--format", "zip", "-o", "f"]]) {
    const c = io(d);
    assert.equal(await main(argv, c.io), 2, argv.join(" "));
  }
  const c = io(d);
  assert.equal(await main(["tag", "--root", d, "missing", "x"], c.io), 1);
  assert.match(c.stderr(), /No such image: missing/);
});
