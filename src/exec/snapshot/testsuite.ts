/**
 * The conformance suite every snapshot driver runs (after containerd's core/snapshots/testsuite).
 * Contents are written and read through real mounts in a throwaway mount namespace.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "../../internal/lazy-node.js";
import { lstatSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Mount } from "../types.js";
import { SnapshotError } from "./errors.js";
import { shellInMounts } from "./testing.js";
import type { Snapshotter } from "./types.js";

export type SnapshotterFactory = (root: string) => Promise<Snapshotter>;

export function snapshotterSuite(name: string, factory: SnapshotterFactory, opts: { skip?: string } = {}): void {
  const it = (title: string, fn: (s: Snapshotter, root: string) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: opts.skip ?? false }, async () => {
      const root = mkdtempSync(join(tmpdir(), "tsbuild-snap-"));
      try {
        await fn(await factory(root), root);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

  /** Commits a base snapshot "base" holding a, keep, d/x, d/y. */
  async function base(s: Snapshotter): Promise<void> {
    const p = await s.prepare("base-key");
    await inMount(p.root, 'echo a > "$M/a"; echo keep > "$M/keep"; mkdir "$M/d"; echo x > "$M/d/x"; echo y > "$M/d/y"');
    await s.commit("base", "base-key");
  }

  it("prepare on nothing, write, commit, view", async (s) => {
    await base(s);
    assert.deepEqual(await s.stat("base"), { kind: "committed", createdAt: (await s.stat("base"))!.createdAt });
    assert.equal(await s.stat("base-key"), undefined, "commit consumes the key");
    assert.equal(await listTree(await s.view("base")), "a=a\nd/\nd/x=x\nd/y=y\nkeep=keep");
  });

  it("child: deleted file becomes a whiteout, view merges, parent unchanged", async (s) => {
    await base(s);
    const p = await s.prepare("child-key", "base");
    assert.equal((await s.stat("child-key"))?.kind, "active");
    await inMount(p.root, 'rm "$M/a"; echo new > "$M/new"; echo changed > "$M/keep"');
    await s.commit("child", "child-key");
    assert.deepEqual((await s.stat("child"))?.parent, "base");
    assert.equal(await listTree(await s.view("child")), "d/\nd/x=x\nd/y=y\nkeep=changed\nnew=new");
    assert.equal(await listTree(await s.view("base")), "a=a\nd/\nd/x=x\nd/y=y\nkeep=keep");
    const diff = await s.diffDir("child");
    const wh = lstatSync(join(diff, "a"));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, "a is a 0/0 whiteout in the diff");
    assert.deepEqual(readdirSync(diff).sort(), ["a", "keep", "new"], "unchanged entries stay out of the diff");
  });

  it("replaced dir hides the old contents; chain of diffs stacks to the view", async (s) => {
    await base(s);
    const p = await s.prepare("c", "base");
    await inMount(p.root, 'rm -rf "$M/d"; mkdir "$M/d"; echo z > "$M/d/z"');
    await s.commit("child", "c");
    const expected = "a=a\nd/\nd/z=z\nkeep=keep";
    assert.equal(await listTree(await s.view("child")), expected);
    const chain = await s.chain("child");
    assert.equal(chain.length, 2);
    assert.equal(chain[1], await s.diffDir("child"));
    // The layer dirs are overlay format: stacked by the kernel they give the same tree.
    const stacked: Mount = { type: "overlay", source: "overlay", target: "/", options: [`lowerdir=${[...chain].reverse().join(":")}`, "ro"] };
    assert.equal(await listTree(stacked), expected);
  });

  it("errors: unknown parent, duplicate key, active parent", async (s) => {
    await assert.rejects(s.prepare("k", "nope"), (e: SnapshotError) => e.errorClass === "not-found");
    await s.prepare("k");
    await assert.rejects(s.prepare("k"), (e: SnapshotError) => e.errorClass === "already-exists");
    await assert.rejects(s.prepare("k2", "k"), (e: SnapshotError) => e.errorClass === "invalid-argument");
    await assert.rejects(s.view("k"), (e: SnapshotError) => e.errorClass === "invalid-argument");
  });

  it("remove: active, committed with children refused, then leaf to root", async (s, root) => {
    await base(s);
    await s.prepare("a1", "base");
    await s.remove("a1");
    assert.equal(await s.stat("a1"), undefined);
    const p = await s.prepare("c", "base");
    await s.commit("child", "c");
    await assert.rejects(s.remove("base"), (e: SnapshotError) => e.errorClass === "failed-precondition");
    assert.equal((await s.stat("base"))?.kind, "committed", "refused remove keeps the snapshot");
    await s.remove("child");
    await s.remove("base");
    assert.equal(await s.stat("base"), undefined);
    assert.deepEqual(snapshotDirs(root), [], "no snapshot directories left");
    assert.ok(!p.dir.startsWith(root) || !exists(p.dir));
  });

  it("an empty index entry: a create in progress counts as absent; one a killed process left long ago is replaced", async (s, root) => {
    await base(s);
    const entry = (name: string) => join(root, "snapshots", "index", createHash("sha256").update(name).digest("hex"));
    writeFileSync(entry("fresh"), "");
    assert.equal(await s.stat("fresh"), undefined);
    await s.prepare("k-fresh", "base");
    await s.commit("fresh", "k-fresh");
    assert.equal(await s.stat("fresh"), undefined, "a young empty entry is someone's create in progress: the commit loses");
    writeFileSync(entry("stale"), "");
    utimesSync(entry("stale"), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await s.prepare("k-stale", "base");
    await s.commit("stale", "k-stale");
    assert.equal((await s.stat("stale"))?.kind, "committed");
  });

  it("commit of an existing name is a no-op; two processes racing on one name", async (s, root) => {
    await base(s);
    const first = await s.prepare("k1", "base");
    await inMount(first.root, 'echo one > "$M/f"');
    await s.commit("same", "k1");
    const second = await s.prepare("k2", "base");
    await inMount(second.root, 'echo two > "$M/f"');
    await s.commit("same", "k2");
    assert.equal(await s.stat("k2"), undefined);
    assert.match(await listTree(await s.view("same")), /f=one/);
    const results = await Promise.all([commitInChild(root, s.driver, "one"), commitInChild(root, s.driver, "two")]);
    assert.deepEqual(results, ["ok", "ok"]);
    const tree = await listTree(await s.view("raced"));
    const withF = (c: string) => `a=a\nd/\nd/x=x\nd/y=y\nf=${c}\nkeep=keep`;
    assert.ok(tree === withF("one") || tree === withF("two"), tree);
    assert.equal(snapshotDirs(root).length, 3, "base, same, raced: the loser's snapshot is gone");
  });

  it("importDir registers an extracted layer with whiteouts and an opaque dir", async (s, root) => {
    await base(s);
    const layer = mkdtempSync(join(root, "layer-"));
    // Make a real overlay-format layer: let the kernel write the whiteout and the opaque marker.
    const lower = mkdtempSync(join(root, "lower-"));
    await shellInMounts([], `
      mkdir -p ${lower}/d ${layer}/u ${layer}/w ${layer}/m; echo x > ${lower}/d/x; echo a > ${lower}/a
      mount -t overlay overlay -o lowerdir=${lower},upperdir=${layer}/u,workdir=${layer}/w ${layer}/m
      rm ${layer}/m/a; rm -rf ${layer}/m/d; mkdir ${layer}/m/d; echo n > ${layer}/m/d/n; echo i > ${layer}/m/i`);
    await s.importDir("imported", join(layer, "u"), "base");
    assert.equal(await listTree(await s.view("imported")), "d/\nd/n=n\ni=i\nkeep=keep");
    assert.equal((await s.stat("imported"))?.parent, "base");
    await s.importDir("imported", join(layer, "w"), "base"); // existing name: no-op
    assert.equal(await listTree(await s.view("imported")), "d/\nd/n=n\ni=i\nkeep=keep");
  });

  it("120 stacked layers mount fine", async (s) => {
    let parent: string | undefined;
    for (let i = 0; i < 120; i++) {
      const p = await s.prepare(`k${i}`, parent);
      // Write straight into the snapshot's own dir: a new file is an overlay change as is.
      await shellInMounts([], `echo ${i} > ${p.dir}/f${String(i).padStart(3, "0")}`);
      await s.commit(`layer-${i}`, `k${i}`);
      parent = `layer-${i}`;
    }
    const view = await s.view("layer-119");
    assert.ok(view.options.join(",").length < 4096, "mount options fit the kernel's page-sized limit");
    const out = await shellInMounts([view], 'ls "$M" | wc -l; cat "$M/f000" "$M/f119"');
    assert.equal(out, "120\n0\n119\n");
    assert.equal((await s.chain("layer-119")).length, 120);
    const p = await s.prepare("top", "layer-119");
    assert.equal(await shellInMounts([p.root], 'echo t > "$M/t"; ls "$M" | wc -l'), "121\n");
  });
}

async function inMount(root: Mount, script: string): Promise<void> {
  await shellInMounts([root], script);
}

/** "path=content" for files and "path/" for dirs, sorted, one per line. */
async function listTree(mount: Mount): Promise<string> {
  const out = await shellInMounts(
    [mount],
    'cd "$M"; find . -mindepth 1 | sort | while read -r p; do p=${p#./}; if [ -d "$p" ]; then echo "$p/"; else echo "$p=$(cat "$p")"; fi; done',
  );
  return out.trimEnd();
}

function snapshotDirs(root: string): string[] {
  return readdirSync(join(root, "snapshots")).filter((e) => /^[0-9a-f]{8}$/.test(e));
}

function exists(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

const snapshotterModule = join(fileURLToPath(import.meta.url), "..", "snapshotter.ts");

/** Another Node process prepares its own key on "base" and commits it as "raced". */
function commitInChild(root: string, driver: string, content: string): Promise<string> {
  const code = `
    import { writeFileSync } from "node:fs";
    import { createSnapshotter } from ${JSON.stringify(snapshotterModule)};
    const s = await createSnapshotter({ root: ${JSON.stringify(root)}, driver: ${JSON.stringify(driver)} });
    const p = await s.prepare("race-" + process.pid, "base");
    writeFileSync(p.dir + "/f", ${JSON.stringify(content + "\n")});
    await s.commit("raced", "race-" + process.pid);
    process.stdout.write("ok");`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
}
