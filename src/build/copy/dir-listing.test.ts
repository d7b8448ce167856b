import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, linkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fsAddon } from "../../internal/fs-addon.js";
import { listDirectories, type DirListing } from "./dir-listing.js";
import type { FsAddon } from "../../internal/fs-addon.js";

const listDirectory = (dir: string, lister: FsAddon | undefined): DirListing => listDirectories([dir], lister)[0]!;
import { makeDir } from "./testdir.js";
import type { FileEntry } from "./types.js";

const addon = fsAddon();

function entries(dir: string, native: boolean, keepOwnership: boolean): FileEntry[] {
  const listing = listDirectory(dir, native ? addon : undefined);
  return listing.names.map((name, i) => {
    const entry = listing.entry(i, name, dir, keepOwnership);
    assert.equal(listing.isDir(i), entry.type === "dir", `isDir of ${name}`);
    return entry;
  });
}

test("the native lister sees exactly what readdir and lstat see", { skip: !addon && "addon not built" }, () => {
  const { dir, cleanup } = makeDir({
    "b.txt": "bee",
    "a dir/inner": "x",
    "ünïcode-é.txt": "u",
    "Z-upper": "z",
    "line\nbreak": "n",
    "empty": null,
    "link": { link: "b.txt" },
    "dangling": { link: "../nowhere" },
  });
  try {
    linkSync(join(dir, "b.txt"), join(dir, "hard"));
    execFileSync("mkfifo", [join(dir, "fifo")]);
    chmodSync(join(dir, "b.txt"), 0o4751);
    chownSync(join(dir, "Z-upper"), 1234, 5678);
    utimesSync(join(dir, "ünïcode-é.txt"), new Date("2001-02-03T04:05:06.789Z"), new Date("2002-03-04T05:06:07.891Z"));
    entries(dir, false, false); // reading the links once sets their atime (relatime), so both passes see the same
    for (const keep of [false, true]) {
      const fromNode = entries(dir, false, keep);
      const fromAddon = entries(dir, true, keep);
      assert.deepEqual(fromAddon, fromNode);
      assert.deepEqual(fromAddon.map((e) => e.path), ["Z-upper", "a dir", "b.txt", "dangling", "empty", "fifo", "hard", "line\nbreak", "link", "ünïcode-é.txt"]);
    }
    const byName = new Map(entries(dir, true, true).map((e) => [e.path, e]));
    assert.equal(byName.get("b.txt")!.mode, 0o4751);
    assert.equal(byName.get("b.txt")!.nlink, 2);
    assert.equal(byName.get("hard")!.ino, byName.get("b.txt")!.ino);
    assert.equal(byName.get("Z-upper")!.uid, 1234);
    assert.equal(byName.get("Z-upper")!.gid, 5678);
    assert.equal(byName.get("fifo")!.type, "other");
    assert.equal(byName.get("dangling")!.linkTarget, "../nowhere");
    assert.equal(byName.get("ünïcode-é.txt")!.mtimeNs, BigInt(Date.parse("2002-03-04T05:06:07.891Z")) * 1_000_000n);
  } finally {
    cleanup();
  }
});

test("listing a missing directory fails as Node's fs does, naming the path", () => {
  const { dir, cleanup } = makeDir({ "file": "f" });
  try {
    for (const native of addon ? [true, false] : [false]) {
      for (const [path, code] of [[join(dir, "missing"), "ENOENT"], [join(dir, "file"), "ENOTDIR"]] as const) {
        assert.throws(() => listDirectory(path, native ? addon : undefined), (e: NodeJS.ErrnoException) => e.code === code && e.message.includes(path) && e.path === path);
      }
    }
  } finally {
    cleanup();
  }
});

test("an empty directory lists nothing", () => {
  const { dir, cleanup } = makeDir({ "empty": null });
  try {
    assert.deepEqual(listDirectory(join(dir, "empty"), addon).names, []);
    assert.deepEqual(listDirectory(join(dir, "empty"), undefined).names, []);
  } finally {
    cleanup();
  }
});

test("listing many directories at once (two threads) gives each directory's own listing, in order", { skip: !addon && "addon not built" }, () => {
  const spec: Record<string, string | null> = {};
  for (let d = 0; d < 20; d++) {
    if (d % 5 === 0) spec[`d${d}`] = null; // some empty
    else for (let f = 0; f < d; f++) spec[`d${d}/f${f}`] = "x".repeat(f);
  }
  const { dir, cleanup } = makeDir(spec);
  try {
    const dirs = Object.keys(spec).map((k) => join(dir, k.split("/")[0]!)).filter((d, i, all) => all.indexOf(d) === i).reverse();
    const view = (l: DirListing, d: string) => l.names.map((n, i) => l.entry(i, n, d, true));
    const batch = listDirectories(dirs, addon);
    assert.equal(batch.length, dirs.length);
    dirs.forEach((d, k) => assert.deepEqual(view(batch[k]!, d), view(listDirectory(d, undefined), d), d));
    // The first failure in the order given is the one thrown.
    assert.throws(() => listDirectories([...dirs.slice(0, 9), join(dir, "missing-1"), join(dir, "missing-2")], addon), (e: NodeJS.ErrnoException) => e.code === "ENOENT" && e.path === join(dir, "missing-1"));
  } finally {
    cleanup();
  }
});
