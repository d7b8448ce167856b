import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync, lstatSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { CopyError, copySources, extractArchive, fetchUrlSource, isArchive, resolveChown, selectSources } from "./index.js";
import { makeDir } from "./testdir.js";

/** Builds `name` in `dir` from the tree `src/` with GNU tar and the given compression flag. */
function makeTar(dir: string, name: string, flag: string): string {
  const out = join(dir, name);
  execFileSync("tar", ["-c", ...(flag ? [flag] : []), "-f", out, "--owner=0", "--group=0", "--numeric-owner", "-C", join(dir, "src"), "."]);
  return out;
}

test("archives are recognised by content, not name, in every ADD format", async () => {
  const { dir, cleanup } = makeDir({ "src/a.txt": "A", "src/sub/b.txt": "B", "plain.txt": "not a tar", "fake.tar.gz": "nope" });
  try {
    const formats: [string, string][] = [["t.bin", ""], ["t.data", "-z"], ["t", "-j"], ["t.x", "-J"]];
    for (const [name, flag] of formats) {
      const file = makeTar(dir, name, flag);
      assert.equal(await isArchive(file), true, `${name} ${flag}`);
      const out = join(dir, `out-${name}`);
      execFileSync("mkdir", [out]);
      await extractArchive(file, out);
      assert.equal(readFileSync(join(out, "sub/b.txt"), "utf8"), "B");
    }
    assert.equal(await isArchive(join(dir, "plain.txt")), false);
    assert.equal(await isArchive(join(dir, "fake.tar.gz")), false);
    writeFileSync(join(dir, "gz-not-tar"), execFileSync("gzip", ["-c", join(dir, "plain.txt")]));
    assert.equal(await isArchive(join(dir, "gz-not-tar")), false, "gzip of a non-tar is copied as is");
  } finally {
    cleanup();
  }
});

test("ADD extracts a local archive into the destination; COPY copies it as a file", async () => {
  const { dir, cleanup } = makeDir({ "src/a.txt": "A", "src/sub/b.txt": "B" });
  const root = makeDir({}, "tsbuild-root-");
  try {
    makeTar(dir, "bundle.tgz", "-z");
    await copySources(await selectSources(dir, ["bundle.tgz"]), root.dir, { dest: "/opt/app", workdir: "/", isAdd: true });
    assert.equal(readFileSync(join(root.dir, "opt/app/sub/b.txt"), "utf8"), "B");
    await copySources(await selectSources(dir, ["bundle.tgz"]), root.dir, { dest: "/copied/", workdir: "/" });
    assert.equal(statSync(join(root.dir, "copied/bundle.tgz")).isFile(), true);
  } finally {
    cleanup();
    root.cleanup();
  }
});

test("archive members replace a symlink in the destination instead of writing through it", async () => {
  const { dir, cleanup } = makeDir({ "src/lib/evil.txt": "x" });
  const root = makeDir({ "dst/lib": { link: "/../../../../tmp" } }, "tsbuild-root-");
  try {
    makeTar(dir, "a.tar", "");
    await copySources(await selectSources(dir, ["a.tar"]), root.dir, { dest: "/dst/", workdir: "/", isAdd: true });
    assert.equal(existsSync("/tmp/evil.txt"), false);
    assert.equal(lstatSync(join(root.dir, "dst/lib")).isDirectory(), true, "as Docker's untar: the link is replaced");
    assert.equal(readFileSync(join(root.dir, "dst/lib/evil.txt"), "utf8"), "x");
  } finally {
    cleanup();
    root.cleanup();
  }
});

test("resolveChown reads the destination's passwd and group files", async () => {
  const root = makeDir({
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n",
    "etc/group": "root:x:0:\nstaff:x:50:\n",
  });
  try {
    assert.deepEqual(await resolveChown("app", root.dir), { uid: 1001, gid: 1001 }, "user only: gid = uid");
    assert.deepEqual(await resolveChown("app:staff", root.dir), { uid: 1001, gid: 50 });
    assert.deepEqual(await resolveChown("42:7", root.dir), { uid: 42, gid: 7 });
    assert.deepEqual(await resolveChown("app:9", root.dir), { uid: 1001, gid: 9 });
    await assert.rejects(resolveChown("nobody", root.dir), (e: unknown) =>
      e instanceof CopyError && e.code === "copy/unknown-user" && e.message.includes("nobody"));
    await assert.rejects(resolveChown("app:wheel", root.dir), (e: unknown) =>
      e instanceof CopyError && e.code === "copy/unknown-group" && e.message.includes("wheel"));
  } finally {
    root.cleanup();
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test("fetchUrlSource names the file after the URL, mode 0600, mtime from Last-Modified, verifies checksums", async () => {
  const body = "payload\n";
  const lastModified = "Wed, 21 Oct 2015 07:28:00 GMT";
  const { server, base } = await serve((req, res) => {
    if (req.url === "/missing") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Last-Modified": lastModified }).end(body);
  });
  const out = makeDir({});
  try {
    const got = await fetchUrlSource(`${base}/files/tool.tar.gz?x=1`, out.dir);
    assert.equal(got.filename, "tool.tar.gz");
    assert.equal(readFileSync(got.path, "utf8"), body);
    const st = statSync(got.path);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.mtime.getTime(), Date.parse(lastModified));
    const digest = "sha256:" + createHash("sha256").update(body).digest("hex");
    assert.equal(got.digest, digest);
    assert.equal((await fetchUrlSource(`${base}/`, out.dir, { checksum: digest })).filename, "__unnamed__");
    await assert.rejects(fetchUrlSource(`${base}/f`, out.dir, { checksum: "sha256:" + "0".repeat(64) }), (e: unknown) =>
      e instanceof CopyError && e.code === "copy/checksum-mismatch");
    await assert.rejects(fetchUrlSource(`${base}/missing`, out.dir), /404/);
  } finally {
    server.close();
    out.cleanup();
  }
});
