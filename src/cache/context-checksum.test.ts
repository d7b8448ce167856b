import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { checksumContext, entryDigest, hashFile, type ChecksumOptions } from "./context-checksum.js";
import { blake3Hex } from "./hash.js";
import { RACY_WINDOW_NS, openStatCache } from "./stat-cache.js";
import { walkContext } from "./walk-context.js";
import { compilePatterns } from "../parser/dockerignore/index.js";

const HOUR_AGO = new Date(Date.now() - 3600_000);
/**
 * A clock 10 s ahead: files made by a test have ctime "now", which is racy; a real build
 * usually runs long after the files last changed.
 */
const later = () => BigInt(Date.now()) * 1_000_000n + 10n * RACY_WINDOW_NS;

function makeContext(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-ctx-"));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
    utimesSync(join(dir, rel), HOUR_AGO, HOUR_AGO); // old enough not to be racy
  }
  return dir;
}

/** Checksums the whole context with uid/gid zeroed (as BuildKit's client does), counting reads. */
function sum(ctx: string, options: Omit<ChecksumOptions, "onRead"> = {}) {
  const reads: string[] = [];
  const entries = walkContext(ctx).map((e) => ({ ...e, uid: 0, gid: 0 }));
  const r = checksumContext(ctx, entries, { ...options, onRead: (p) => reads.push(p) });
  // `paths` stays lazy, as in a build: a whole-selection hit reads nothing until it is asked for.
  return {
    checksum: r.checksum,
    get paths() {
      return r.paths;
    },
    reads,
  };
}

test("walkContext lists entries sorted, skips excluded dirs, records symlink targets", (t) => {
  const ctx = makeContext({ "b.txt": "b", "a/x.go": "x", "node_modules/m/i.js": "i", "a/y.go": "y" });
  t.after(() => rmSync(ctx, { recursive: true, force: true }));
  symlinkSync("a/x.go", join(ctx, "link"));
  const entries = walkContext(ctx, { isExcluded: (p) => p === "node_modules" });
  assert.deepEqual(entries.map((e) => `${e.path}:${e.type}`), ["a:dir", "a/x.go:file", "a/y.go:file", "b.txt:file", "link:symlink"]);
  assert.equal(entries.find((e) => e.path === "link")?.linkTarget, "a/x.go");
  const reincluded = walkContext(ctx, {
    isExcluded: (p) => p.startsWith("node_modules") && p !== "node_modules/m/i.js",
    mayIncludeBelow: () => true,
  });
  assert.ok(reincluded.some((e) => e.path === "node_modules/m/i.js"));
  assert.ok(reincluded.some((e) => e.path === "node_modules/m" && e.type === "dir"));
});

test("equal trees in different places have equal checksums; content, mode, owner and link target count", (t) => {
  const a = makeContext({ "app/main.go": "package main\n", "README": "hi" });
  const b = makeContext({ "app/main.go": "package main\n", "README": "hi" });
  t.after(() => [a, b].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const base = sum(a).checksum;
  assert.equal(sum(b).checksum, base);

  writeFileSync(join(b, "README"), "ho");
  assert.notEqual(sum(b).checksum, base);
  writeFileSync(join(b, "README"), "hi");
  assert.equal(sum(b).checksum, base);

  chmodSync(join(b, "README"), 0o755);
  assert.notEqual(sum(b).checksum, base);
  chmodSync(join(b, "README"), statSync(join(a, "README")).mode & 0o7777);

  const entries = walkContext(b).map((e) => ({ ...e, uid: e.path === "README" ? 1000 : 0, gid: 0 }));
  assert.notEqual(checksumContext(b, entries).checksum, base);

  symlinkSync("x", join(a, "l"));
  symlinkSync("y", join(b, "l"));
  assert.notEqual(sum(a).checksum, sum(b).checksum);
});

test("the context may be named with a trailing slash or relative to the working directory", (t) => {
  const ctx = makeContext({ "app/main.go": "package main\n", "README": "hi" });
  t.after(() => rmSync(ctx, { recursive: true, force: true }));
  const entries = walkContext(ctx).map((e) => ({ ...e, uid: 0, gid: 0 }));
  const base = checksumContext(ctx, entries).checksum;
  assert.equal(checksumContext(`${ctx}/`, entries).checksum, base);
  assert.equal(checksumContext(relative(process.cwd(), ctx), entries).checksum, base);
  writeFileSync(join(ctx, "app/main.go"), "package other\n"); // read again through each name
  const changed = checksumContext(`${ctx}/`, entries).checksum;
  assert.notEqual(changed, base);
  assert.equal(checksumContext(relative(process.cwd(), ctx), entries).checksum, changed);
});

test("per-path digests say which path changed", (t) => {
  const ctx = makeContext({ "app/main.go": "1", "app/util.go": "2" });
  t.after(() => rmSync(ctx, { recursive: true, force: true }));
  const before = sum(ctx).paths;
  writeFileSync(join(ctx, "app/util.go"), "3");
  const after = sum(ctx).paths;
  const changed = [...after].filter(([p, d]) => before.get(p) !== d).map(([p]) => p);
  assert.deepEqual(changed, ["app/util.go"]);
});

test("with a stat cache, an unchanged tree is checksummed without reading any file", (t) => {
  const ctx = makeContext({ "a.txt": "a", "dir/b.txt": "b", "dir/c.txt": "c" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const first = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  assert.equal(first.reads.length, 3);
  // A new StatCache object: the entries come from disk, as in the next build.
  const second = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  assert.deepEqual(second.reads, []);
  assert.equal(second.checksum, first.checksum);
});

test("a selection taken whole from the stat cache has the checksum and per-path digests of a fresh one", (t) => {
  const ctx = makeContext({ "a.txt": "a", "dir/b.txt": "b" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  symlinkSync("a.txt", join(ctx, "link"));
  const fresh = sum(ctx);
  sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  const whole = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  assert.deepEqual(whole.reads, []);
  assert.equal(whole.checksum, fresh.checksum);
  assert.deepEqual([...whole.paths], [...fresh.paths]);
});

test("with a stat cache, owner, mode, link target and content changes still change the checksum", (t) => {
  const ctx = makeContext({ "a.txt": "a", "b.txt": "b" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  symlinkSync("a.txt", join(ctx, "link"));
  const cached = (owner = 0) => {
    const entries = walkContext(ctx).map((e) => ({ ...e, uid: owner, gid: 0 }));
    return checksumContext(ctx, entries, { statCache: openStatCache(root, ctx), now: later }).checksum;
  };
  const seen = new Set([cached(), cached()]);
  assert.equal(seen.size, 1);
  seen.add(cached(1000));
  chmodSync(join(ctx, "b.txt"), 0o700);
  seen.add(cached());
  rmSync(join(ctx, "link"));
  symlinkSync("b.txt", join(ctx, "link"));
  seen.add(cached());
  writeFileSync(join(ctx, "a.txt"), "A");
  utimesSync(join(ctx, "a.txt"), HOUR_AGO, HOUR_AGO);
  seen.add(cached());
  assert.equal(seen.size, 5);
  // And back: the first tree is still recorded, and still right.
  chmodSync(join(ctx, "b.txt"), statSync(join(ctx, "a.txt")).mode & 0o7777);
  rmSync(join(ctx, "link"));
  symlinkSync("a.txt", join(ctx, "link"));
  writeFileSync(join(ctx, "a.txt"), "a");
  assert.ok(seen.has(cached()));
});

test("touching mtimes keeps the checksum; the touched files are re-hashed once, then reused", (t) => {
  const ctx = makeContext({ "a.txt": "a", "b.txt": "b" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const first = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  const older = new Date(Date.now() - 7200_000);
  utimesSync(join(ctx, "a.txt"), older, older);
  const touched = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  assert.equal(touched.checksum, first.checksum);
  assert.deepEqual(touched.reads, ["a.txt"]); // the stat tuple changed, b.txt is reused
  const again = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  assert.deepEqual(again.reads, []);
  assert.equal(again.checksum, first.checksum);
});

test("a same-size edit with the mtime restored inside the racy window is detected", (t) => {
  const ctx = mkdtempSync(join(tmpdir(), "tsbuild-ctx-"));
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  writeFileSync(join(ctx, "main.go"), "version 1\n"); // mtime: now, inside the racy window
  const mtime = statSync(join(ctx, "main.go")).mtime;
  const first = sum(ctx, { statCache: openStatCache(root, ctx) });
  writeFileSync(join(ctx, "main.go"), "version 2\n");
  utimesSync(join(ctx, "main.go"), mtime, mtime);
  const second = sum(ctx, { statCache: openStatCache(root, ctx) });
  assert.deepEqual(second.reads, ["main.go"]);
  assert.notEqual(second.checksum, first.checksum);
});

test("a racy entry is never reused even when every stat field matches", (t) => {
  const ctx = makeContext({ "f": "x" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const [entry] = walkContext(ctx);
  const latest = entry!.ctimeNs > entry!.mtimeNs ? entry!.ctimeNs : entry!.mtimeNs;
  // Recorded at the same instant the file last changed: ambiguous, so it must be re-hashed.
  const racyNow = () => latest;
  assert.equal(sum(ctx, { statCache: openStatCache(root, ctx), now: racyNow }).reads.length, 1);
  assert.equal(sum(ctx, { statCache: openStatCache(root, ctx), now: racyNow }).reads.length, 1);
  const cache = openStatCache(root, ctx);
  assert.equal(cache.lookup("f", entry!), undefined);
  // Recorded well after the last change: trusted.
  cache.record("f", entry!, "d".repeat(64), latest + RACY_WINDOW_NS + 1n);
  assert.equal(cache.lookup("f", entry!), "d".repeat(64));
  assert.equal(cache.lookup("f", { ...entry!, ino: entry!.ino + 1 }), undefined);
});

test("a damaged stat cache is read as empty or hashed again, never trusted or fatal", (t) => {
  const ctx = makeContext({ "a.txt": "a", "b.txt": "b" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const first = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  const { file } = openStatCache(root, ctx);
  const entries = readFileSync(file, "utf8");
  // Digests and record times garbled, the whole-selection file not JSON.
  writeFileSync(file, entries.replace(/[0-9a-f]{64}/g, "z".repeat(64)));
  writeFileSync(file.replace(/\.entries$/, ".trees.json"), "{");
  const garbled = sum(ctx, { statCache: openStatCache(root, ctx), now: later });
  assert.deepEqual(garbled.reads.sort(), ["a.txt", "b.txt"]);
  assert.equal(garbled.checksum, first.checksum);
  writeFileSync(file, entries.replace(/ (\d+) ([0-9a-f]{64})/g, " x$1 $2"));
  writeFileSync(file.replace(/\.entries$/, ".trees.json"), "[]");
  assert.deepEqual(sum(ctx, { statCache: openStatCache(root, ctx), now: later }).reads.sort(), ["a.txt", "b.txt"]);
  writeFileSync(file, "not a stat cache");
  writeFileSync(file.replace(/\.entries$/, ".trees.json"), "[]");
  assert.deepEqual(sum(ctx, { statCache: openStatCache(root, ctx), now: later }).reads.sort(), ["a.txt", "b.txt"]);
  // Torn, as a reader could find it while another process rewrites it in place: the header's
  // length and BLAKE3 no longer match the body.
  writeFileSync(file, entries.slice(0, -10));
  writeFileSync(file.replace(/\.entries$/, ".trees.json"), "[]");
  assert.deepEqual(sum(ctx, { statCache: openStatCache(root, ctx), now: later }).reads.sort(), ["a.txt", "b.txt"]);
  // Version 2 (no checksum; it was written whole by rename) is still read, and its entries
  // still checked one by one.
  const body = entries.slice(entries.indexOf("\n") + 1);
  writeFileSync(file, `tsbuild-statcache 2\n${body}`);
  writeFileSync(file.replace(/\.entries$/, ".trees.json"), "[]");
  assert.deepEqual(sum(ctx, { statCache: openStatCache(root, ctx), now: later }).reads, []);
  writeFileSync(file, `tsbuild-statcache 2\n${body.replace(/[0-9a-f]{64}/, "z".repeat(64))}`);
  writeFileSync(file.replace(/\.entries$/, ".trees.json"), "[]");
  assert.equal(sum(ctx, { statCache: openStatCache(root, ctx), now: later }).reads.length, 1);
});

test("two stat caches of one context merge their entries on save", (t) => {
  const ctx = makeContext({ "a": "a", "b": "b" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const [ea, eb] = walkContext(ctx);
  const late = later();
  const one = openStatCache(root, ctx);
  const two = openStatCache(root, ctx);
  one.record("a", ea!, "1".repeat(64), late);
  two.record("b", eb!, "2".repeat(64), late);
  one.save();
  two.save();
  const three = openStatCache(root, ctx);
  assert.equal(three.lookup("a", ea!), "1".repeat(64));
  assert.equal(three.lookup("b", eb!), "2".repeat(64));
});

test("a stat cache that read its entries before another process saved keeps that process's entries", (t) => {
  const ctx = makeContext({ "a": "a", "b": "b", "c": "c" });
  const root = mkdtempSync(join(tmpdir(), "tsbuild-root-"));
  t.after(() => [ctx, root].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const [ea, eb, ec] = walkContext(ctx);
  const late = later();
  const first = openStatCache(root, ctx);
  first.record("c", ec!, "3".repeat(64), late);
  first.save();
  const one = openStatCache(root, ctx);
  const two = openStatCache(root, ctx);
  assert.equal(one.lookup("c", ec!), "3".repeat(64)); // both have read the saved file
  assert.equal(two.lookup("c", ec!), "3".repeat(64));
  one.record("a", ea!, "1".repeat(64), late);
  one.save();
  two.record("b", eb!, "2".repeat(64), late);
  two.save(); // the file is no longer the one it read: it merges
  two.forget("c");
  two.save(); // now it is the file it wrote itself
  const three = openStatCache(root, ctx);
  assert.equal(three.lookup("a", ea!), "1".repeat(64));
  assert.equal(three.lookup("b", eb!), "2".repeat(64));
  assert.equal(three.lookup("c", ec!), undefined);
});

test("the .dockerignore matcher plugs in as isExcluded, with re-includes below excluded dirs", (t) => {
  const ctx = makeContext({ "main.go": "m", "docs/a.md": "a", "docs/keep.md": "k", "vendor/x/y.go": "y", "README.md": "r" });
  t.after(() => rmSync(ctx, { recursive: true, force: true }));
  const m = compilePatterns(["docs", "!docs/keep.md", "vendor/", "*.md"]);
  const entries = walkContext(ctx, { isExcluded: (p) => m.matches(p), mayIncludeBelow: () => m.hasExclusions });
  assert.deepEqual(entries.map((e) => e.path), ["docs", "docs/keep.md", "main.go"]);
});

test("hashFile gives the BLAKE3 of the whole file at every size, with or without lstat's size", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-hash-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chunk = 4 * 1024 * 1024;
  for (const size of [0, 1, 4096, chunk - 1, chunk, chunk + 1, 2 * chunk + 7]) {
    const file = join(dir, `f${size}`);
    writeFileSync(file, Buffer.alloc(size, size % 251));
    const want = blake3Hex(readFileSync(file));
    assert.equal(hashFile(file), want, `size ${size}`);
    assert.equal(hashFile(file, size), want, `size ${size} with the size`);
    assert.equal(hashFile(file, size + 10), want, `size ${size} with a stale larger size`);
  }
});

test("many files read in batches hash as their bytes; a file that changed size after the walk is hashed as hashFile does", (t) => {
  // 300 files of up to ~12 KB: more than one batch of the native reader (when it is built)
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`d${i % 7}/f${i}.txt`] = `file ${i}\n`.repeat(1 + ((i * 37) % 1300));
  files["big.bin"] = "x".repeat(300 * 1024); // over the batch's per-file limit: read in chunks
  const ctx = makeContext(files);
  t.after(() => rmSync(ctx, { recursive: true, force: true }));
  const entries = walkContext(ctx).map((e) => ({ ...e, uid: 0, gid: 0 }));
  writeFileSync(join(ctx, "d3/f10.txt"), "changed after the walk, longer than before: " + "y".repeat(50_000));
  writeFileSync(join(ctx, "d4/f11.txt"), "shorter");
  const reads: string[] = [];
  const r = checksumContext(ctx, entries, { onRead: (p) => reads.push(p), now: later });
  assert.equal(reads.length, 301);
  for (const e of entries) {
    if (e.type !== "file") continue;
    // A file that grew is hashed up to the size the walk saw (the next build reads it again:
    // its stat differs); one that shrank, whole.
    const now = readFileSync(join(ctx, e.path));
    const expected = entryDigest(e, blake3Hex(now.subarray(0, Math.min(now.length, e.size))));
    assert.equal(r.paths.get(e.path), expected, e.path);
  }
});
