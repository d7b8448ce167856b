import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openContentStore } from "../content-store.js";
import { applyLayer, writeLayer, type Compression } from "./index.js";
import { makeFixtureTree, setTreeMtime, treeManifest } from "./test-trees.js";
import { MEDIA_TYPE_DOCKER_LAYER_GZIP, MEDIA_TYPE_OCI_LAYER, MEDIA_TYPE_OCI_LAYER_GZIP, MEDIA_TYPE_OCI_LAYER_ZSTD } from "../types.js";

const work = mkdtempSync(join(tmpdir(), "tsbuild-layer-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const store = openContentStore(join(work, "content"));
let n = 0;
function freshDir(): string {
  const d = join(work, `d${n++}`);
  mkdirSync(d);
  return d;
}

const MEDIA: Record<Compression, string> = { gzip: MEDIA_TYPE_OCI_LAYER_GZIP, none: MEDIA_TYPE_OCI_LAYER, zstd: MEDIA_TYPE_OCI_LAYER_ZSTD };

for (const compression of ["gzip", "none", "zstd"] as const) {
  test(`round trip (${compression}): write a tree as a layer, apply it, get the same tree`, async () => {
    const src = freshDir();
    await makeFixtureTree(src, 1_600_000_000);
    const layer = await writeLayer(src, { store, compression });
    assert.equal(layer.descriptor.mediaType, MEDIA[compression]);
    assert.equal(store.size(layer.descriptor.digest), layer.descriptor.size);
    const blob = await store.readBlob(layer.descriptor.digest);
    if (compression === "none") assert.equal(layer.diffId, layer.descriptor.digest);
    else assert.notEqual(layer.diffId, layer.descriptor.digest);

    const dst = freshDir();
    const applied = await applyLayer(store.blobPath(layer.descriptor.digest), dst, { mediaType: layer.descriptor.mediaType });
    assert.equal(applied.diffId, layer.diffId);
    const want = await treeManifest(src, { mtimes: true });
    assert.deepEqual(await treeManifest(dst, { mtimes: true }), want);
    // The fixture really holds what the test claims to cover.
    const text = want.join("\n");
    for (const needle of ["bin/suid file 4755", "home dir 1777", "=etc/deep/hosts-hardlink", "security.capability=", "etc/deleted char 0 0:0 0,0",
      "trusted.overlay.opaque=79", "null char 666 0:0 1,3", "loop0 block 660", "fifo fifo", "home/user/notes file 644 1000:1000", "-> /etc/passwd"]) {
      assert.ok(text.includes(needle), `fixture lacks ${needle}`);
    }
    assert.ok(blob.length > 0);
  });
}

test("the uncompressed size and diffID describe the tar inside the blob", async () => {
  const src = freshDir();
  await makeFixtureTree(src, 1_600_000_000);
  const layer = await writeLayer(src, { store, compression: "gzip", mediaTypes: "docker" });
  assert.equal(layer.descriptor.mediaType, MEDIA_TYPE_DOCKER_LAYER_GZIP);
  const tar = execFileSync("gzip", ["-dc", store.blobPath(layer.descriptor.digest)], { maxBuffer: 64 << 20 });
  assert.equal(tar.length, layer.uncompressedSize);
  assert.equal(`sha256:${createHash("sha256").update(tar).digest("hex")}`, layer.diffId);
  assert.equal(tar.length % 512, 0);
});

test("identical trees with different mtimes past SOURCE_DATE_EPOCH give byte-identical layers", async () => {
  const epoch = 1_700_000_000;
  const a = freshDir();
  const b = freshDir();
  await makeFixtureTree(a, epoch + 1000);
  await makeFixtureTree(b, epoch + 999_999);
  const la = await writeLayer(a, { store, sourceDateEpoch: epoch });
  const lb = await writeLayer(b, { store, sourceDateEpoch: epoch });
  assert.equal(la.descriptor.digest, lb.descriptor.digest);
  assert.equal(la.diffId, lb.diffId);
  // Without the clamp the mtimes differ, and so must the layers (the test can fail).
  const ua = await writeLayer(a, { store });
  const ub = await writeLayer(b, { store });
  assert.notEqual(ua.diffId, ub.diffId);
  // Older mtimes are kept as they are, not raised to the epoch.
  setTreeMtime(b, epoch - 5);
  const older = freshDir();
  await applyLayer(store.blobPath((await writeLayer(b, { store, sourceDateEpoch: epoch })).descriptor.digest), older);
  assert.ok((await treeManifest(older, { mtimes: true })).every((l) => l.includes(`t=${epoch - 5}`)));
});

test("GNU tar reads the layer: listing, order, whiteouts, hardlinks and the binary capability", async () => {
  const src = freshDir();
  await makeFixtureTree(src, 1_600_000_000);
  const layer = await writeLayer(src, { store, compression: "none" });
  const blob = store.blobPath(layer.descriptor.digest);
  const listing = execFileSync("tar", ["--numeric-owner", "-tvf", blob]).toString().trim().split("\n");
  const names = execFileSync("tar", ["-tf", blob]).toString().trim().split("\n");
  assert.ok(names.length > 20);
  // Directories come before their contents, and siblings are sorted by bytes.
  assert.deepEqual(names.slice(0, 6), ["abs-link", "big.bin", "bin/", "bin/pinger", "bin/rel-link", "bin/suid"]);
  assert.ok(names.includes("etc/.wh.deleted"));
  assert.ok(names.indexOf("opaque/.wh..wh..opq") === names.indexOf("opaque/") + 1);
  assert.ok(names.includes("d".repeat(60) + "/" + "e".repeat(60) + "/" + "f".repeat(90)));
  assert.ok(names.includes("ünïcødé-名前.txt"));
  const line = (name: string) => listing.find((l) => l.endsWith(" " + name) || l.includes(" " + name + " "))!;
  assert.match(line("bin/suid"), /^-rwsr-xr-x 0\/0 /);
  assert.match(line("home/user/notes"), /^-rw-r--r-- 1000\/1000 /);
  assert.match(line("etc/hosts"), /^h.* link to etc\/deep\/hosts-hardlink$/);
  assert.match(line("null"), /^crw-rw-rw- 0\/0 +1,3 /);
  assert.match(line("bin/rel-link"), /^l.* -> \.\.\/etc\/hosts$/);
  // Extract with GNU tar and compare the capability bytes with the source.
  const out = freshDir();
  execFileSync("tar", ["--xattrs", "--xattrs-include=security.capability", "-xpf", blob, "-C", out, "bin/pinger"]);
  assert.equal(execFileSync("getcap", [join(out, "bin/pinger")]).toString().split(" ").slice(1).join(" ").trim(), "cap_setuid,cap_net_raw=ep");
  assert.deepEqual(readFileSync(join(out, "bin/pinger")), readFileSync(join(src, "bin/pinger")));
});

test("round trip of a tree of 2,100 files (read ahead on a worker thread), hard links and files too big for its slots", async () => {
  const src = freshDir();
  await makeFixtureTree(src, 1_600_000_000);
  for (let d = 0; d < 21; d++) {
    mkdirSync(join(src, `many/d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(src, `many/d${d}/f${f}`), `${d}/${f}\n`.repeat(f * 13));
  }
  writeFileSync(join(src, "many/d3/big"), Buffer.alloc(200_000, 7));
  linkSync(join(src, "many/d3/big"), join(src, "many/d5/big-link"));
  linkSync(join(src, "many/d1/f9"), join(src, "many/d0/f9-link"));
  setTreeMtime(src, 1_600_000_000);
  const layer = await writeLayer(src, { store, compression: "none" });
  const dst = freshDir();
  const applied = await applyLayer(store.blobPath(layer.descriptor.digest), dst, { mediaType: layer.descriptor.mediaType });
  assert.equal(applied.diffId, layer.diffId);
  const want = await treeManifest(src, { mtimes: true });
  assert.deepEqual(await treeManifest(dst, { mtimes: true }), want);
  assert.ok(want.some((l) => l.startsWith("many/d5/big-link file") && l.includes("=many/d3/big")), "the hard link is in the fixture");
});
