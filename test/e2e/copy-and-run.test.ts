/**
 * Acceptance (issue 5): COPY/ADD rules, heredocs, ONBUILD and RUN mounts, end to end through
 * build() and umoci unpack.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { makeFixtureRoot, umociUnavailable, type FixtureRoot } from "../support/build-fixture.js";

const skip = umociUnavailable();

describe("COPY and ADD", { skip }, () => {
  let fx: FixtureRoot;
  let server: Server;
  let url: string;
  const served = "served over http\n";
  before(async () => {
    fx = await makeFixtureRoot();
    server = createServer((req, res) => {
      if (req.url === "/file.txt") res.end(served);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  });
  after(async () => {
    await new Promise((r) => server?.close(r));
    fx?.cleanup();
  });

  test("dirs copy their contents, wildcards, WORKDIR-relative dest, .dockerignore, symlinks as links", async () => {
    const img = await fx.buildAndUnpack({
      context: fx.context({
        "Dockerfile": [
          "FROM busybox",
          "WORKDIR /app",
          "COPY src /dst/",
          "COPY *.txt texts/",
          "COPY one.txt relative.txt",
          "COPY . /all/",
          "",
        ].join("\n"),
        ".dockerignore": "secret.key\n**/*.log\n",
        "src/a": "a\n",
        "src/sub/b": "b\n",
        "src/link": { symlink: "sub/b" },
        "src/debug.log": "log\n",
        "one.txt": "one\n",
        "two.txt": "two\n",
        "secret.key": "do not ship\n",
      }),
    });
    const r = (p: string) => join(img.rootfs, p);
    assert.equal(readFileSync(r("dst/a"), "utf8"), "a\n");
    assert.equal(readFileSync(r("dst/sub/b"), "utf8"), "b\n");
    assert.equal(existsSync(r("dst/src")), false, "the directory itself is not copied, only its contents");
    assert.ok(lstatSync(r("dst/link")).isSymbolicLink());
    assert.equal(readlinkSync(r("dst/link")), "sub/b");
    assert.equal(existsSync(r("dst/debug.log")), false, ".dockerignore **/*.log");
    assert.deepEqual(readdirSync(r("app/texts")).sort(), ["one.txt", "two.txt"]);
    assert.equal(readFileSync(r("app/relative.txt"), "utf8"), "one\n");
    assert.equal(existsSync(r("all/secret.key")), false, ".dockerignore secret.key");
    assert.ok(existsSync(r("all/one.txt")));
  });

  test("several sources need a directory destination", async () => {
    const context = fx.context({ "Dockerfile": "FROM busybox\nCOPY one.txt two.txt /notadir\n", "one.txt": "1", "two.txt": "2" });
    await assert.rejects(fx.build({ context }), /directory|end with/i);
  });

  test("a source outside the context is an error", async () => {
    const context = fx.context({ "Dockerfile": "FROM busybox\nCOPY ../outside.txt /x\n" });
    writeFileSync(join(context, "..", "outside.txt"), "outside\n");
    await assert.rejects(fx.build({ context }), /outside|not found|context/i);
  });

  test("ADD of a local tar.gz extracts it", async () => {
    const context = fx.context({ "Dockerfile": "FROM busybox\nADD payload.tar.gz /unpacked/\n", "tree/inner/file.txt": "inside the archive\n" });
    execFileSync("tar", ["-czf", join(context, "payload.tar.gz"), "-C", join(context, "tree"), "."]);
    const img = await fx.buildAndUnpack({ context });
    assert.equal(readFileSync(join(img.rootfs, "unpacked/inner/file.txt"), "utf8"), "inside the archive\n");
    assert.equal(existsSync(join(img.rootfs, "unpacked/payload.tar.gz")), false);
  });

  test("ADD of a URL with --checksum; a wrong checksum fails", async () => {
    const sum = createHash("sha256").update(served).digest("hex");
    const good = fx.context({ "Dockerfile": `FROM busybox\nADD --checksum=sha256:${sum} ${url}/file.txt /fetched.txt\n` });
    const img = await fx.buildAndUnpack({ context: good });
    assert.equal(readFileSync(join(img.rootfs, "fetched.txt"), "utf8"), served);
    const bad = fx.context({ "Dockerfile": `FROM busybox\nADD --checksum=sha256:${"0".repeat(64)} ${url}/file.txt /fetched.txt\n` });
    await assert.rejects(fx.build({ context: bad }), /checksum|digest/i);
  });

  test("heredoc RUN and COPY", async () => {
    const img = await fx.buildAndUnpack({
      context: fx.context({
        Dockerfile: [
          "FROM busybox",
          "ARG WHO=heredoc",
          "RUN <<EOF",
          "echo first > /run1.txt",
          "echo $WHO >> /run1.txt",
          "EOF",
          "COPY <<EOT /etc/note.txt",
          "a note from ${WHO}",
          "EOT",
          "",
        ].join("\n"),
      }),
    });
    assert.equal(readFileSync(join(img.rootfs, "run1.txt"), "utf8"), "first\nheredoc\n");
    assert.equal(readFileSync(join(img.rootfs, "etc/note.txt"), "utf8"), "a note from heredoc\n");
  });

  test("ONBUILD triggers run in the child stage, not in the parent", async () => {
    const img = await fx.buildAndUnpack({
      context: fx.context({
        Dockerfile: [
          "FROM busybox AS parent",
          "ONBUILD RUN echo triggered > /trigger.txt",
          "ONBUILD COPY hello.txt /from-trigger.txt",
          "RUN test ! -e /trigger.txt && echo parent > /parent.txt",
          "",
          "FROM parent",
          "RUN cat /trigger.txt > /seen.txt",
          "",
        ].join("\n"),
        "hello.txt": "hello\n",
      }),
    });
    assert.equal(readFileSync(join(img.rootfs, "seen.txt"), "utf8"), "triggered\n");
    assert.equal(readFileSync(join(img.rootfs, "from-trigger.txt"), "utf8"), "hello\n");
    assert.equal(readFileSync(join(img.rootfs, "parent.txt"), "utf8"), "parent\n");
    assert.equal(img.config.config.OnBuild ?? null, null, "triggers are consumed by the child");
  });

  test("WORKDIR creates its directory (0755, owned by USER) in a layer of its own", async () => {
    const img = await fx.buildAndUnpack({ context: fx.context({ Dockerfile: "FROM busybox\nWORKDIR /made/by\nUSER app\nWORKDIR workdir\n" }) });
    const st = lstatSync(join(img.rootfs, "made/by/workdir"));
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o7777, 0o755);
    assert.equal(st.uid, 1000);
    assert.equal(lstatSync(join(img.rootfs, "made/by")).uid, 0);
    assert.equal(img.config.config.WorkingDir, "/made/by/workdir");
    const history = (img.config.history ?? []).slice(-3);
    assert.deepEqual(history.map((h) => [h.created_by, h.empty_layer === true]), [["WORKDIR /made/by", false], ["USER app", true], ["WORKDIR /made/by/workdir", false]]);
    assert.equal(img.layers.length, 3);
  });
});

describe("RUN mounts", { skip }, () => {
  let fx: FixtureRoot;
  before(async () => {
    fx = await makeFixtureRoot();
  });
  after(() => fx?.cleanup());

  test("--mount=type=cache persists between two builds and stays out of the image", async () => {
    const dockerfile = (n: string) =>
      `FROM busybox\nRUN --mount=type=cache,target=/cache,id=e2e echo ${n} >> /cache/log && cp /cache/log /seen-${n}\n`;
    await fx.build({ context: fx.context({ Dockerfile: dockerfile("one") }) });
    const img = await fx.buildAndUnpack({ context: fx.context({ Dockerfile: dockerfile("two") }) });
    assert.equal(readFileSync(join(img.rootfs, "seen-two"), "utf8"), "one\ntwo\n");
    assert.deepEqual(existsSync(join(img.rootfs, "cache")) ? readdirSync(join(img.rootfs, "cache")) : [], []);
  });

  test("--mount=type=secret is readable in the RUN and absent from the image", async () => {
    const secretFile = join(fx.dir, "secret.txt");
    mkdirSync(fx.dir, { recursive: true });
    writeFileSync(secretFile, "s3cr3t-value");
    const context = fx.context({
      Dockerfile: "FROM busybox\nRUN --mount=type=secret,id=s cat /run/secrets/s | wc -c > /secret-length && grep -q s3cr3t /run/secrets/s\n",
    });
    const img = await fx.buildAndUnpack({ context, secrets: [`id=s,src=${secretFile}`] });
    assert.equal(readFileSync(join(img.rootfs, "secret-length"), "utf8").trim(), "12");
    assert.equal(existsSync(join(img.rootfs, "run/secrets/s")), false);
    for (const layer of img.layers) {
      assert.equal(readFileSync(layer).includes("s3cr3t"), false, "secret bytes in a layer blob");
    }
  });
});
