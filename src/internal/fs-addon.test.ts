import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fsAddon } from "./fs-addon.js";

// The addon is built at install from Node's own headers; where they exist it must have been built.
const headersInstalled = existsSync(join(dirname(process.execPath), "..", "include", "node", "node_api.h"));

test("the native filesystem addon is built wherever Node's headers are installed", { skip: (process.platform !== "linux" || !headersInstalled) && "no headers to build it from: the JavaScript paths are used" }, () => {
  assert.ok(fsAddon(), "native/build/tsbuild-fsaddon.node is missing or does not load: run node scripts/build-native.mjs");
});

test("read-ahead skips paths it cannot open and leaves the files as they were", { skip: !fsAddon() && "addon not built" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-prefetch-"));
  try {
    writeFileSync(join(dir, "a"), "alpha");
    writeFileSync(join(dir, "b"), "");
    const paths = [join(dir, "missing"), join(dir, "a"), dir, "", join(dir, "b"), join(dir, "a", "not-a-dir")];
    fsAddon()!.prefetch(paths.join("\0"));
    fsAddon()!.prefetch("");
    await new Promise((r) => setTimeout(r, 50)); // the thread runs detached; give it time to trip over anything
    assert.ok(existsSync(join(dir, "a")));
    assert.throws(() => fsAddon()!.prefetch(42 as unknown as string), TypeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readFilesStart reads each file to its offset in the background and reports what it could not read", { skip: !fsAddon() && "addon not built" }, () => {
  const addon = fsAddon()!;
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-readfiles-"));
  try {
    // more files than the addon gives one thread, so several threads take part
    const names = Array.from({ length: 40 }, (_, i) => `f${i}`);
    names.forEach((n, i) => writeFileSync(join(dir, n), n.repeat(i + 1)));
    writeFileSync(join(dir, "shrunk"), "abc");
    const paths = [...names.map((n) => join(dir, n)), join(dir, "missing"), dir, join(dir, "shrunk")];
    const expected = names.map((n, i) => n.length * (i + 1));
    const sizes = new Float64Array([...expected, 5, 5, 10]); // "shrunk" is smaller than its lstat said
    const read = () => {
      const data = Buffer.alloc(sizes.reduce((s, n) => s + n, 0));
      const results = new Float64Array(paths.length);
      return { data, results, handle: addon.readFilesStart(paths.join("\0"), sizes, data, results) };
    };
    // two jobs in flight at once, waited for in the other order: each fills its own buffer
    const first = read();
    const second = read();
    addon.readFilesWait(second.handle);
    addon.readFilesWait(first.handle);
    addon.readFilesWait(first.handle); // a second wait returns at once
    for (const { data, results } of [first, second]) {
      let offset = 0;
      names.forEach((n, i) => {
        assert.equal(results[i], expected[i]);
        assert.equal(data.subarray(offset, offset + expected[i]!).toString(), n.repeat(i + 1));
        offset += expected[i]!;
      });
      assert.equal(results[names.length], -2, "ENOENT");
      assert.equal(results[names.length + 1], -21, "EISDIR");
      assert.equal(results[names.length + 2], 3);
    }
    read(); // never waited for: its handle's finalizer joins the threads when it is collected
    const results = new Float64Array(paths.length);
    assert.throws(() => addon.readFilesStart(paths.join("\0"), sizes, Buffer.alloc(10), results), RangeError);
    assert.throws(() => addon.readFilesStart(paths.join("\0"), new Float64Array(2), Buffer.alloc(1000), results), TypeError);
    assert.throws(() => addon.readFilesWait({} as never), TypeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readFilesWait counts the files that were not whole in the page cache", { skip: !fsAddon() && "addon not built" }, () => {
  const addon = fsAddon()!;
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-uncached-"));
  try {
    const paths = Array.from({ length: 20 }, (_, i) => join(dir, `f${i}`));
    for (const p of paths) writeFileSync(p, Buffer.alloc(64 * 1024, 1));
    const sizes = new Float64Array(paths.map(() => 64 * 1024));
    const read = () => {
      const data = Buffer.alloc(paths.length * 64 * 1024);
      const results = new Float64Array(paths.length);
      const uncached = addon.readFilesWait(addon.readFilesStart(paths.join("\0"), sizes, data, results));
      assert.deepEqual([...results], [...sizes]);
      assert.ok(data.every((b) => b === 1));
      return uncached;
    };
    assert.equal(read(), 0, "just written: all cached");
    // dd's nocache flag drops a file's pages from the page cache (after writing them back)
    for (const p of paths.slice(0, 3)) execFileSync("dd", [`of=${p}`, "oflag=nocache", "conv=notrunc,fdatasync", "count=0", "status=none"]);
    assert.equal(read(), 3);
    assert.equal(read(), 0, "read once: cached again");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sha256Hex matches node:crypto for strings (as UTF-8) and Buffers", { skip: !fsAddon() && "addon not built" }, async () => {
  const { createHash } = await import("node:crypto");
  for (const input of ["", "abc", "ünïcødé ✓", Buffer.from([0, 255, 1, 254]), Buffer.alloc(100_000, 7)]) {
    assert.equal(fsAddon()!.sha256Hex(input), createHash("sha256").update(input).digest("hex"));
  }
  assert.throws(() => fsAddon()!.sha256Hex(42 as unknown as string), TypeError);
});
