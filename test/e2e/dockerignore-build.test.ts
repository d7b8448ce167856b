/** .dockerignore in a build: ignored trees are absent, `!` re-includes below an ignored dir, wildcards skip ignored matches. */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeFixtureRoot, umociUnavailable, type FixtureRoot } from "../support/build-fixture.js";

let fx: FixtureRoot;
const skip = umociUnavailable();
before(async () => {
  if (!skip) fx = await makeFixtureRoot();
});
after(() => fx?.cleanup());

test("ignored files and trees are not in the context; re-included files are, with their parents", { skip }, async () => {
  const ctx = fx.context({
    Dockerfile: "FROM busybox\nCOPY . /ctx/\nCOPY *.txt /txt/\n",
    ".dockerignore": "node_modules\n**/*.log\ndocs\n!docs/keep.md\nsecret.txt\n",
    "app.js": "js\n",
    "notes.txt": "notes\n",
    "secret.txt": "do not ship\n",
    "node_modules/pkg/index.js": "module\n",
    "logs/a.log": "log\n",
    "logs/b.keep": "kept\n",
    "docs/keep.md": "keep me\n",
    "docs/drop.md": "drop me\n",
  });
  const img = await fx.buildAndUnpack({ context: ctx });
  const r = (p: string) => join(img.rootfs, p);
  assert.equal(readFileSync(r("ctx/app.js"), "utf8"), "js\n");
  assert.ok(!existsSync(r("ctx/node_modules")), "an ignored directory is left out whole");
  assert.ok(!existsSync(r("ctx/logs/a.log")), "**/*.log");
  assert.equal(readFileSync(r("ctx/logs/b.keep"), "utf8"), "kept\n");
  assert.equal(readFileSync(r("ctx/docs/keep.md"), "utf8"), "keep me\n", "! re-includes below an ignored directory");
  assert.ok(!existsSync(r("ctx/docs/drop.md")));
  assert.ok(!existsSync(r("ctx/secret.txt")));
  assert.equal(readFileSync(r("txt/notes.txt"), "utf8"), "notes\n");
  assert.ok(!existsSync(r("txt/secret.txt")), "a wildcard does not match an ignored file");
});

test("copying an ignored path by name is a not-found error naming it", { skip }, async () => {
  const ctx = fx.context({ Dockerfile: "FROM busybox\nCOPY secret.txt /s\n", ".dockerignore": "secret.txt\n", "secret.txt": "x\n" });
  await assert.rejects(fx.build({ context: ctx }), /"\/secret\.txt": not found/);
});
