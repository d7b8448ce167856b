import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync } from "node:fs";
import { CopyError, selectSources } from "./index.js";
import { makeDir } from "./testdir.js";

const names = (sel: { path: string }[]) => sel.map((s) => s.path);
const files = (sel: { files: { path: string }[] }) => sel.files.map((f) => f.path);

test("plain sources are cleaned and listed with everything below them", async () => {
  const { dir, cleanup } = makeDir({ "a.txt": "A", "src/x.js": "x", "src/sub/y.js": "yy", "src/empty": null });
  try {
    const sel = await selectSources(dir, ["./a.txt", "/src/", "src/../a.txt"]);
    assert.deepEqual(names(sel), ["a.txt", "src", "a.txt"]);
    assert.deepEqual(files(sel[1]!), ["", "empty", "sub", "sub/y.js", "x.js"]);
    const y = sel[1]!.files.find((f) => f.path === "sub/y.js")!;
    assert.equal(y.type, "file");
    assert.equal(y.size, 2);
    assert.equal(sel[0]!.name, "a.txt");
  } finally {
    cleanup();
  }
});

test("a missing source or a path climbing out of the root is an error naming it", async () => {
  const { dir, cleanup } = makeDir({ "a.txt": "A" });
  try {
    await assert.rejects(selectSources(dir, ["nope.txt"]), (e: unknown) =>
      e instanceof CopyError && e.code === "copy/not-found" && e.message.includes('"/nope.txt"'));
    await assert.rejects(selectSources(dir, ["../etc/passwd"]), (e: unknown) =>
      e instanceof CopyError && e.code === "copy/outside-context" && e.message.includes("../etc/passwd"));
    await assert.rejects(selectSources(dir, ["missingdir/*.txt"]), (e: unknown) =>
      e instanceof CopyError && e.message.includes('"/missingdir"'));
  } finally {
    cleanup();
  }
});

test("wildcards use Go filepath.Match per path, never cross /, and may match nothing", async () => {
  const { dir, cleanup } = makeDir({
    "a1.txt": "", "a2.txt": "", "b.txt": "", "a[.txt": "", "d/a3.txt": "", "pkg1/x": "", "pkg2/x": "", "*star": "",
  });
  try {
    assert.deepEqual(names(await selectSources(dir, ["a?.txt"])), ["a1.txt", "a2.txt", "a[.txt"]);
    assert.deepEqual(names(await selectSources(dir, ["*.txt"])), ["a1.txt", "a2.txt", "a[.txt", "b.txt"]);
    assert.deepEqual(names(await selectSources(dir, ["[ab]*.txt"])), ["a1.txt", "a2.txt", "a[.txt", "b.txt"]);
    assert.deepEqual(names(await selectSources(dir, ["[!a]*"])), ["a1.txt", "a2.txt", "a[.txt"], "Go has ^ for negation: [!a] is ! or a");
    assert.deepEqual(names(await selectSources(dir, ["a\\[.t?t"])), ["a[.txt"]);
    assert.deepEqual(names(await selectSources(dir, ["\\*st?r"])), ["*star"]);
    // As in BuildKit, a path whose only special characters are escaped is not a pattern at all.
    await assert.rejects(selectSources(dir, ["a\\[.txt"]), /not found/);
    assert.deepEqual(names(await selectSources(dir, ["pkg*/x"])), ["pkg1/x", "pkg2/x"]);
    const dirMatch = await selectSources(dir, ["pk?1"]);
    assert.deepEqual(files(dirMatch[0]!), ["", "x"]);
    assert.deepEqual(await selectSources(dir, ["*.none"]), []);
    await assert.rejects(selectSources(dir, ["*.none"], { allowEmptyWildcard: false }), /no source files were specified/);
  } finally {
    cleanup();
  }
});

test("source symlinks are followed inside the root; nested ones are listed as links", async () => {
  const { dir, cleanup } = makeDir({
    "real/f.txt": "F", "real/inner": { link: "f.txt" }, "linkdir": { link: "/real" }, "up": { link: "../../../real/f.txt" },
  });
  try {
    const [viaLink] = await selectSources(dir, ["linkdir"]);
    assert.equal(viaLink!.path, "real");
    assert.equal(viaLink!.name, "linkdir");
    assert.deepEqual(files(viaLink!), ["", "f.txt", "inner"]);
    const inner = viaLink!.files.find((f) => f.path === "inner")!;
    assert.equal(inner.type, "symlink");
    assert.equal(inner.linkTarget, "f.txt");
    const [up] = await selectSources(dir, ["up"]);
    assert.equal(up!.path, "real/f.txt", "a relative link climbing above the root stays inside it");
  } finally {
    cleanup();
  }
});

test("--exclude patterns drop paths below a source, with ! re-including", async () => {
  const { dir, cleanup } = makeDir({
    "app/main.go": "", "app/main_test.go": "", "app/docs/README.md": "", "app/docs/keep.md": "", "app/node_modules/m/i.js": "",
    "hom1.txt": "", "hom2.md": "", "hom3.go": "",
  });
  try {
    const [app] = await selectSources(dir, ["app"], { exclude: ["*_test.go", "node_modules", "docs", "!docs/keep.md"] });
    assert.deepEqual(files(app!), ["", "docs", "docs/keep.md", "main.go"]);
    assert.deepEqual(names(await selectSources(dir, ["hom*"], { exclude: ["*.txt", "*.md"] })), ["hom3.go"]);
  } finally {
    cleanup();
  }
});

test("owners are reset to 0:0 for context sources and kept for stage sources", async () => {
  const { dir, cleanup } = makeDir({ "f": "x" });
  try {
    chownSync(`${dir}/f`, 1234, 5678);
    chmodSync(`${dir}/f`, 0o4751);
    const [ctx] = await selectSources(dir, ["f"]);
    assert.deepEqual([ctx!.files[0]!.uid, ctx!.files[0]!.gid, ctx!.files[0]!.mode], [0, 0, 0o4751]);
    const [stage] = await selectSources(dir, ["f"], { keepOwnership: true });
    assert.deepEqual([stage!.files[0]!.uid, stage!.files[0]!.gid], [1234, 5678]);
  } finally {
    cleanup();
  }
});

test("--parents keeps the path below a /./ pivot, or from the root", async () => {
  const { dir, cleanup } = makeDir({ "x/y/a.txt": "", "x/y/b.txt": "", "x/z/c.txt": "" });
  try {
    const pivot = await selectSources(dir, ["./x/./y/*.txt"], { parents: true });
    assert.deepEqual(pivot.map((s) => s.parents!.path), ["y/a.txt", "y/b.txt"]);
    assert.deepEqual(pivot[0]!.parents!.dirs.map((d) => d.path), ["y"]);
    const whole = await selectSources(dir, ["x/z/c.txt"], { parents: true });
    assert.deepEqual(whole.map((s) => s.parents!.path), ["x/z/c.txt"]);
    assert.deepEqual(whole[0]!.parents!.dirs.map((d) => d.path), ["x", "x/z"]);
  } finally {
    cleanup();
  }
});

