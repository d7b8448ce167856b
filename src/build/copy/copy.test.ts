import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, linkSync, lstatSync, readFileSync, readlinkSync, readdirSync, statSync, utimesSync, existsSync } from "node:fs";
import { join } from "node:path";
import { CopyError, copySources, selectSources, type CopyOptions, type SelectOptions } from "./index.js";
import { makeDir, type Spec } from "./testdir.js";

/** Runs one COPY from a fresh context into a fresh root; returns the root for inspection. */
async function copyCase(
  ctx: Spec,
  root: Spec,
  sources: string[],
  opts: Partial<CopyOptions> & { dest: string },
  sel: SelectOptions = {},
  prepare?: (ctxDir: string) => void,
): Promise<{ root: string; cleanup: () => void }> {
  const c = makeDir(ctx);
  const r = makeDir(root, "tsbuild-root-");
  try {
    prepare?.(c.dir);
    const selection = await selectSources(c.dir, sources, sel);
    await copySources(selection, r.dir, { workdir: "/", ...opts });
  } catch (err) {
    c.cleanup();
    r.cleanup();
    throw err;
  }
  c.cleanup();
  return { root: r.dir, cleanup: r.cleanup };
}

const read = (root: string, p: string) => readFileSync(join(root, p), "utf8");
const ls = (root: string, p: string) => readdirSync(join(root, p)).sort();

test("a file to a new path without slash becomes that file; with slash it goes inside", async () => {
  const a = await copyCase({ "f.txt": "hello" }, {}, ["f.txt"], { dest: "/opt/renamed" });
  assert.equal(read(a.root, "opt/renamed"), "hello");
  a.cleanup();
  const b = await copyCase({ "f.txt": "hello" }, {}, ["f.txt"], { dest: "/opt/dir/" });
  assert.equal(read(b.root, "opt/dir/f.txt"), "hello");
  b.cleanup();
  const c = await copyCase({ "f.txt": "hello" }, { "opt/existing": null }, ["f.txt"], { dest: "/opt/existing" });
  assert.equal(read(c.root, "opt/existing/f.txt"), "hello", "an existing directory receives the file by name");
  c.cleanup();
});

test("a directory source copies its contents, and dest is relative to WORKDIR", async () => {
  const r = await copyCase({ "src/a.js": "a", "src/lib/b.js": "b" }, {}, ["src"], { dest: "out", workdir: "/app" });
  assert.deepEqual(ls(r.root, "app/out"), ["a.js", "lib"]);
  assert.equal(read(r.root, "app/out/lib/b.js"), "b");
  assert.equal(existsSync(join(r.root, "app/out/src")), false);
  r.cleanup();
  const dot = await copyCase({ "x": "1", "y": "2" }, {}, ["x", "y"], { dest: ".", workdir: "/w" });
  assert.deepEqual(ls(dot.root, "w"), ["x", "y"]);
  dot.cleanup();
});

test("several sources need a directory destination ending in /", async () => {
  await assert.rejects(copyCase({ "a": "", "b": "" }, {}, ["a", "b"], { dest: "/x" }), (e: unknown) =>
    e instanceof CopyError && e.code === "copy/bad-destination" && /must be a directory and end with a \//.test(e.message));
  await assert.rejects(copyCase({ "a.txt": "", "b.txt": "" }, {}, ["*.txt"], { dest: "/x" }), /end with a \//);
});

test("created parents are 0755 and owned by --chown; files keep mode and mtime, owner 0:0 or --chown", async () => {
  const when = new Date("2001-02-03T04:05:06Z");
  const prepare = (dir: string) => {
    chmodSync(join(dir, "tool.sh"), 0o751);
    utimesSync(join(dir, "tool.sh"), when, when);
    utimesSync(join(dir, "d"), when, when);
  };
  const r = await copyCase({ "tool.sh": "#!/bin/sh", "d/inner": "i" }, {}, ["tool.sh", "d"], { dest: "/a/b/" }, {}, prepare);
  const f = statSync(join(r.root, "a/b/tool.sh"));
  assert.equal(f.mode & 0o7777, 0o751);
  assert.equal(f.mtime.getTime(), when.getTime());
  assert.deepEqual([f.uid, f.gid], [0, 0]);
  assert.equal(statSync(join(r.root, "a")).mode & 0o7777, 0o755);
  r.cleanup();

  const owned = await copyCase({ "f": "x", "d/g": "y" }, {}, ["f", "d"], { dest: "/new/", chown: { uid: 1000, gid: 2000 } });
  for (const p of ["new", "new/f", "new/g"]) {
    const st = lstatSync(join(owned.root, p));
    assert.deepEqual([p, st.uid, st.gid], [p, 1000, 2000]);
  }
  owned.cleanup();
});

test("an existing destination directory keeps its metadata; a nested one takes the source's", async () => {
  const c = makeDir({ "d/sub/f": "" });
  const r = makeDir({ "dst/sub": null }, "tsbuild-root-");
  try {
    chmodSync(join(c.dir, "d"), 0o750);
    chmodSync(join(c.dir, "d/sub"), 0o700);
    chmodSync(join(r.dir, "dst"), 0o705);
    await copySources(await selectSources(c.dir, ["d"]), r.dir, { dest: "/dst", workdir: "/" });
    assert.equal(statSync(join(r.dir, "dst")).mode & 0o777, 0o705, "the top-level existing dir is left alone");
    assert.equal(statSync(join(r.dir, "dst/sub")).mode & 0o777, 0o700, "a nested existing dir takes the source mode");
  } finally {
    c.cleanup();
    r.cleanup();
  }
});

test("--chmod applies octal or symbolic modes to files and directories", async () => {
  const octal = await copyCase({ "d/f": "", "d/s/g": "" }, {}, ["d"], { dest: "/o/", chmod: "640" });
  assert.equal(statSync(join(octal.root, "o/f")).mode & 0o7777, 0o640);
  assert.equal(statSync(join(octal.root, "o/s")).mode & 0o7777, 0o640);
  octal.cleanup();
  const sym = await copyCase({ "d/f": "", "d/s/g": "" }, {}, ["d"], { dest: "/o/", chmod: "u=rwX,go=rX" }, {}, (dir) => {
    chmodSync(join(dir, "d/f"), 0o600);
    chmodSync(join(dir, "d/s"), 0o700);
  });
  assert.equal(statSync(join(sym.root, "o/f")).mode & 0o7777, 0o644);
  assert.equal(statSync(join(sym.root, "o/s")).mode & 0o7777, 0o755);
  sym.cleanup();
  await assert.rejects(copyCase({ "f": "" }, {}, ["f"], { dest: "/x", chmod: "99999" }), (e: unknown) =>
    e instanceof CopyError && e.code === "copy/bad-chmod" && e.message.includes("between 0 and 07777"));
  await assert.rejects(copyCase({ "f": "" }, {}, ["f"], { dest: "/x", chmod: "u+q" }), /invalid chmod parameter/);
});

test("symlinks inside a copied tree stay links; hard links stay linked", async () => {
  const r = await copyCase({ "d/target.txt": "t", "d/ln": { link: "target.txt" }, "d/abs": { link: "/etc/passwd" } }, {}, ["d"], {
    dest: "/out/",
  }, {}, (dir) => linkSync(join(dir, "d/target.txt"), join(dir, "d/hard.txt")));
  assert.equal(readlinkSync(join(r.root, "out/ln")), "target.txt");
  assert.equal(readlinkSync(join(r.root, "out/abs")), "/etc/passwd");
  const a = statSync(join(r.root, "out/target.txt"));
  const b = statSync(join(r.root, "out/hard.txt"));
  assert.equal(a.ino, b.ino);
  assert.equal(a.nlink, 2);
  r.cleanup();
});

test("writing through a destination symlink stays inside the root", async () => {
  // /app -> /etc/../../../outside in the image: resolved as a chroot would, it lands in ROOT/outside.
  const r = await copyCase({ "f": "data" }, { "app": { link: "/../../../outside" } }, ["f"], { dest: "/app/" });
  assert.equal(read(r.root, "outside/f"), "data");
  r.cleanup();
  // A nested symlink in the destination is replaced by the copied file, never written through.
  const n = await copyCase({ "d/x": "new" }, { "dst/x": { link: "/etc/hostname" } }, ["d"], { dest: "/dst" });
  assert.equal(lstatSync(join(n.root, "dst/x")).isFile(), true);
  assert.equal(read(n.root, "dst/x"), "new");
  n.cleanup();
});

test("file onto an existing directory inside a tree is an error; dir onto a file too", async () => {
  await assert.rejects(copyCase({ "d/x": "f" }, { "dst/x/y": "" }, ["d"], { dest: "/dst" }), /cannot replace to directory \/dst\/x with file/);
  await assert.rejects(copyCase({ "d/x/y": "f" }, { "dst/x": "" }, ["d"], { dest: "/dst" }), /cannot copy to non-directory: \/dst\/x/);
});

test("--parents recreates the kept path with the source directories' modes", async () => {
  const r = await copyCase({ "x/y/a.txt": "a", "x/z/c.txt": "c" }, {}, ["./x/./y/*.txt", "x/z/c.txt"], { dest: "/p/", parents: true }, { parents: true }, (dir) =>
    chmodSync(join(dir, "x/y"), 0o711));
  assert.equal(read(r.root, "p/y/a.txt"), "a");
  assert.equal(read(r.root, "p/x/z/c.txt"), "c");
  assert.equal(statSync(join(r.root, "p/y")).mode & 0o777, 0o711);
  r.cleanup();
});

test("excluded paths are not copied", async () => {
  const r = await copyCase({ "d/a.go": "", "d/a_test.go": "", "d/vendor/v.go": "" }, {}, ["d"], { dest: "/o/" }, {
    exclude: ["*_test.go", "vendor"],
  });
  assert.deepEqual(ls(r.root, "o"), ["a.go"]);
  r.cleanup();
});

test("copied files get the source's owner and exact mode, also in a set-group-ID directory and with set-id bits", async () => {
  const c = makeDir({ "plain.txt": "p", "tool": "t", "open.txt": "o" });
  const root = makeDir({ "srv/shared": null }, "tsbuild-root-");
  try {
    chmodSync(join(c.dir, "tool"), 0o4755);
    chmodSync(join(c.dir, "open.txt"), 0o666);
    const shared = join(root.dir, "srv/shared");
    chownSync(shared, 0, 4321);
    chmodSync(shared, 0o2775);
    const selection = await selectSources(c.dir, ["plain.txt", "tool", "open.txt"], {});
    await copySources(selection, root.dir, { workdir: "/", dest: "/srv/shared/", chown: { uid: 0, gid: 0 } });
    for (const [name, mode] of [["plain.txt", 0o644], ["tool", 0o4755], ["open.txt", 0o666]] as const) {
      const st = lstatSync(join(shared, name));
      assert.equal(st.gid, 0, `${name} is not left in the directory's group`);
      assert.equal(st.mode & 0o7777, mode, `${name} mode`);
    }
    const owned = await copyCase({ "f": "x" }, {}, ["f"], { dest: "/o/", chown: { uid: 1234, gid: 5678 } });
    const st = lstatSync(join(owned.root, "o/f"));
    assert.deepEqual([st.uid, st.gid], [1234, 5678]);
    owned.cleanup();
  } finally {
    c.cleanup();
    root.cleanup();
  }
});

test("a tree of many files (written on two threads) keeps contents, modes, owners and times; later sources still win", async () => {
  const when = new Date("2003-04-05T06:07:08Z");
  const ctx: Spec = { "big.bin": "z".repeat((1 << 20) + 5) };
  for (let d = 0; d < 8; d++) for (let f = 0; f < 260; f++) ctx[`tree/d${d}/f${f}`] = `content ${d}/${f}`;
  ctx["over/d3/f7"] = "from the second source";
  const prepare = (dir: string) => {
    chmodSync(join(dir, "tree/d2/f5"), 0o4755);
    chmodSync(join(dir, "tree/d6/f1"), 0o600);
    for (let f = 0; f < 260; f++) utimesSync(join(dir, `tree/d4/f${f}`), when, when);
  };
  const r = await copyCase(ctx, {}, ["tree", "over", "big.bin"], { dest: "/app/", chown: { uid: 123, gid: 456 } }, {}, prepare);
  assert.equal(read(r.root, "app/d0/f0"), "content 0/0");
  assert.equal(read(r.root, "app/d7/f259"), "content 7/259");
  assert.equal(read(r.root, "app/d3/f7"), "from the second source");
  assert.equal(statSync(join(r.root, "app/big.bin")).size, (1 << 20) + 5);
  assert.equal(ls(r.root, "app/d5").length, 260);
  const setuid = statSync(join(r.root, "app/d2/f5"));
  assert.equal(setuid.mode & 0o7777, 0o4755, "set-user-ID survives the chown");
  assert.deepEqual([setuid.uid, setuid.gid], [123, 456]);
  assert.equal(statSync(join(r.root, "app/d6/f1")).mode & 0o7777, 0o600);
  assert.equal(statSync(join(r.root, "app/d4/f259")).mtime.getTime(), when.getTime());
  await assert.rejects(copyCase(ctx, { "app/d1/f3": null }, ["tree"], { dest: "/app/" }), (e: unknown) =>
    e instanceof CopyError && /cannot replace to directory \/app\/d1\/f3 with file/.test(e.message));
  r.cleanup();
});
