import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack, type Pack } from "tar-stream";
import { Readable } from "node:stream";
import { openContentStore } from "../content-store.js";
import { applyLayer, FsUtil, writeLayer } from "./index.js";
import { treeManifest } from "./test-trees.js";

const work = mkdtempSync(join(tmpdir(), "tsbuild-apply-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
let n = 0;
function freshDir(): string {
  const d = join(work, `d${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A sentinel directory outside every target: hostile layers must leave it exactly as it is. */
const sentinel = freshDir();
writeFileSync(join(sentinel, "secret"), "do not touch\n");
const sentinelBefore = () => treeManifest(sentinel, { mtimes: true });

type Entry = { name: string; type?: "file" | "symlink" | "link" | "directory"; linkname?: string; body?: string };
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p: Pack = pack();
  for (const e of entries) {
    const header = { name: e.name, type: e.type ?? "file", linkname: e.linkname, mode: e.type === "directory" ? 0o755 : 0o644 };
    await new Promise<void>((res, rej) => p.entry(header, e.body ?? "", (err) => (err ? rej(err) : res())));
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const apply = (tar: Buffer, target: string, whiteouts?: "overlay" | "delete") =>
  applyLayer(Readable.from([gzipSync(tar)]), target, { whiteouts });

async function assertRefused(entries: Entry[], mention: string) {
  const before = await sentinelBefore();
  const target = freshDir();
  await assert.rejects(apply(await tarOf(entries), target), (err: Error & { code?: string }) => {
    assert.equal(err.code, "layer/unsafe-path");
    assert.ok(err.message.includes(mention), `${err.message} should name ${mention}`);
    return true;
  });
  assert.deepEqual(await sentinelBefore(), before);
  return target;
}

test("'..' that climbs out of the root is refused", async () => {
  const rel = `../${"../".repeat(8)}${sentinel.slice(1)}/secret`;
  await assertRefused([{ name: rel, body: "pwned" }], rel);
  await assertRefused([{ name: "a/../../x", body: "pwned" }], "a/../../x");
});

test("absolute names are taken relative to the root, as containerd does", async () => {
  const target = freshDir();
  const before = await sentinelBefore();
  await apply(await tarOf([{ name: `${sentinel}/secret`, body: "inside" }, { name: "/abs/file", body: "abs" }]), target);
  assert.equal(readFileSync(join(target, sentinel, "secret"), "utf8"), "inside");
  assert.equal(readFileSync(join(target, "abs/file"), "utf8"), "abs");
  assert.deepEqual(await sentinelBefore(), before);
});

test("writing through a symlink resolves inside the root like a chroot", async () => {
  const target = freshDir();
  const before = await sentinelBefore();
  const tar = await tarOf([
    { name: "a", type: "symlink", linkname: sentinel },
    { name: "a/secret", body: "pwned via absolute link" },
    { name: "b", type: "symlink", linkname: "../../../../../../../.." + sentinel },
    { name: "b/other", body: "pwned via relative link" },
    { name: "c", type: "symlink", linkname: sentinel + "/secret" },
    { name: "c", body: "replaces the link, not its target" },
  ]);
  await apply(tar, target);
  assert.deepEqual(await sentinelBefore(), before);
  assert.equal(readlinkSync(join(target, "a")), sentinel);
  assert.equal(readFileSync(join(target, sentinel, "secret"), "utf8"), "pwned via absolute link");
  assert.equal(readFileSync(join(target, sentinel, "other"), "utf8"), "pwned via relative link");
  assert.ok(lstatSync(join(target, "c")).isFile());
});

test("hardlinks to outside the root or through a symlink are refused", async () => {
  await assertRefused([{ name: "h", type: "link", linkname: `../../../../../../..${sentinel}/secret` }], '"h"');
  await assertRefused(
    [
      { name: "d", type: "symlink", linkname: sentinel },
      { name: "h2", type: "link", linkname: "d/secret" },
    ],
    '"h2"',
  );
  assert.equal(lstatSync(join(sentinel, "secret")).nlink, 1);
});

test("whiteouts through a symlink never delete outside the root", async () => {
  const target = freshDir();
  const before = await sentinelBefore();
  const tar = await tarOf([
    { name: "s", type: "symlink", linkname: sentinel },
    { name: "s/.wh.secret" },
    { name: ".wh.s" },
  ]);
  await apply(tar, target, "delete");
  assert.deepEqual(await sentinelBefore(), before);
  assert.equal(existsSync(join(target, "s")), false);
  await assertRefused([{ name: "x/.wh..." }], "x/.wh...");
});

test("a corrupt or mislabelled blob is an error, not a partial tree", async () => {
  const target = freshDir();
  await assert.rejects(applyLayer(Readable.from([Buffer.alloc(1024, 7)]), target), { code: "layer/bad-tar" });
  const tar = await tarOf([{ name: "f", body: "x" }]);
  await assert.rejects(applyLayer(Readable.from([tar]), freshDir(), { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }), {
    code: "layer/bad-blob",
  });
});

test("overlay whiteouts become 0/0 devices and the opaque xattr; delete mode merges instead", async () => {
  const store = openContentStore(join(work, "content"));
  // An upper dir as overlayfs leaves it: a whiteout for lower/gone, an opaque dir "cfg".
  const upper = freshDir();
  mkdirSync(join(upper, "cfg"));
  writeFileSync(join(upper, "cfg/new.conf"), "new\n");
  writeFileSync(join(upper, "added"), "added\n");
  const fsutil = new FsUtil();
  await fsutil.mknodWhiteout(join(upper, "gone"));
  await fsutil.setxattr(join(upper, "cfg"), "trusted.overlay.opaque", Buffer.from("y"));
  await fsutil.close();
  const layer = await writeLayer(upper, { store, sourceDateEpoch: 0 });
  const blob = store.blobPath(layer.descriptor.digest);

  const overlayDir = freshDir();
  await applyLayer(blob, overlayDir);
  const m = (await treeManifest(overlayDir)).join("\n");
  assert.match(m, /^gone char 0 0:0 0,0$/m);
  assert.match(m, /^cfg dir 755 0:0 trusted\.overlay\.opaque=79$/m);

  // A merged tree, as a copy-based snapshot holds it: the layer deletes and hides lower files.
  const merged = freshDir();
  mkdirSync(join(merged, "cfg"));
  writeFileSync(join(merged, "cfg/old.conf"), "old\n");
  mkdirSync(join(merged, "gone"));
  writeFileSync(join(merged, "gone/file"), "lower\n");
  writeFileSync(join(merged, "kept"), "lower\n");
  const r = await applyLayer(blob, merged, { whiteouts: "delete" });
  assert.equal(r.diffId, layer.diffId);
  assert.deepEqual(
    (await treeManifest(merged)).map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["added file", "cfg dir", "cfg/new.conf file", "kept file"],
  );
});

test("delete mode hides lower content of an opaque dir even when the marker comes after its children", async () => {
  const merged = freshDir();
  mkdirSync(join(merged, "cfg/sub"), { recursive: true });
  writeFileSync(join(merged, "cfg/sub/old"), "lower\n");
  writeFileSync(join(merged, "cfg/other"), "lower\n");
  writeFileSync(join(merged, "top"), "lower\n");
  const tar = await tarOf([{ name: "cfg/sub/new", body: "upper" }, { name: "cfg/.wh..wh..opq" }]);
  await apply(tar, merged, "delete");
  assert.deepEqual(
    (await treeManifest(merged)).map((l) => l.split(" ")[0]),
    ["cfg", "cfg/sub", "cfg/sub/new", "top"],
  );
});
