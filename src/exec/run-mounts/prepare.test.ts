import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellInMounts } from "../snapshot/testing.js";
import type { Mount } from "../types.js";
import { RunMountError } from "./errors.js";
import { prepareRunMounts } from "./prepare.js";

const asRoot = process.getuid?.() === 0;
const skip = asRoot ? false : "mounting in a mount namespace needs root";

function scratch(): { root: string; ctx: string; rootfs: Mount; done: () => void } {
  const base = mkdtempSync(join(tmpdir(), "tsbuild-rm-"));
  const ctx = join(base, "ctx");
  mkdirSync(join(ctx, "sub"), { recursive: true });
  writeFileSync(join(ctx, "sub", "file"), "context\n");
  mkdirSync(join(base, "rootfs"));
  const rootfs: Mount = { type: "bind", source: join(base, "rootfs"), target: "/", options: ["rbind", "rw"] };
  return { root: join(base, "root"), ctx, rootfs, done: () => rmSync(base, { recursive: true, force: true }) };
}

test("bind: read-only by default, source inside the context", { skip }, async () => {
  const s = scratch();
  try {
    await using m = await prepareRunMounts([{ type: "bind", target: "/src", source: "../../sub" }], { root: s.root, contextDir: s.ctx });
    assert.deepEqual(m.mounts, [{ type: "bind", source: join(s.ctx, "sub"), target: "/src", options: ["rbind", "ro"] }]);
    const out = await shellInMounts([s.rootfs, ...m.mounts], 'cat "$M/src/file"; echo x > "$M/src/new" 2>/dev/null || echo refused');
    assert.equal(out, "context\nrefused\n");
    assert.ok(!existsSync(join(s.ctx, "sub", "new")));
  } finally {
    s.done();
  }
});

test("bind rw: writes are visible in the RUN and discarded; the source is untouched", { skip }, async () => {
  const s = scratch();
  try {
    const m = await prepareRunMounts([{ type: "bind", target: "/src", rw: true }], { root: s.root, contextDir: s.ctx });
    const out = await shellInMounts([s.rootfs, ...m.mounts], 'echo changed > "$M/src/sub/file"; echo n > "$M/src/new"; cat "$M/src/sub/file" "$M/src/new"');
    assert.equal(out, "changed\nn\n");
    assert.equal(readFileSync(join(s.ctx, "sub", "file"), "utf8"), "context\n");
    assert.ok(!existsSync(join(s.ctx, "new")));
    await m.release();
    assert.deepEqual(readdir(join(s.root, "tmp")), [], "scratch space removed on release");
  } finally {
    s.done();
  }
});

test("bind: a missing source is an error naming the path", { skip }, async () => {
  const s = scratch();
  try {
    await assert.rejects(
      prepareRunMounts([{ type: "bind", target: "/x", source: "nope" }], { root: s.root, contextDir: s.ctx }),
      (e: RunMountError) => e.code === "run-mount/source-missing" && e.message.includes("nope"),
    );
  } finally {
    s.done();
  }
});

test("cache: content persists across RUNs; mode, uid, gid applied on creation; seeded from from=", { skip }, async () => {
  const s = scratch();
  try {
    const spec = { type: "cache" as const, target: "/var/cache/apt", mode: 0o750, uid: 12, gid: 34 };
    const first = await prepareRunMounts([spec], { root: s.root });
    await shellInMounts([s.rootfs, ...first.mounts], 'echo kept > "$M/var/cache/apt/pkg"');
    await first.release();
    const second = await prepareRunMounts([spec], { root: s.root });
    assert.equal(await shellInMounts([s.rootfs, ...second.mounts], 'cat "$M/var/cache/apt/pkg"'), "kept\n");
    const st = statSync(second.mounts[0]!.source);
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o750, 12, 34]);
    await second.release();
    // Another id is another directory, and from= seeds a new one.
    const seeded = await prepareRunMounts([{ type: "cache", target: "/c", id: "seeded", fromDir: s.ctx, source: "sub" }], { root: s.root });
    assert.equal(await shellInMounts([s.rootfs, ...seeded.mounts], 'ls "$M/c"'), "file\n");
    await seeded.release();
  } finally {
    s.done();
  }
});

test("cache sharing=private: a concurrent user gets another dir; a free one is reused", { skip }, async () => {
  const s = scratch();
  try {
    const spec = { type: "cache" as const, target: "/c", sharing: "private" as const };
    const a = await prepareRunMounts([spec], { root: s.root });
    const b = await prepareRunMounts([spec], { root: s.root });
    assert.notEqual(a.mounts[0]!.source, b.mounts[0]!.source);
    await a.release();
    const c = await prepareRunMounts([spec], { root: s.root });
    assert.equal(c.mounts[0]!.source, a.mounts[0]!.source);
    await b.release();
    await c.release();
  } finally {
    s.done();
  }
});

test("cache sharing=locked: a second user waits for the first to release", { skip }, async () => {
  const s = scratch();
  try {
    const spec = { type: "cache" as const, target: "/c", sharing: "locked" as const };
    const first = await prepareRunMounts([spec], { root: s.root });
    let secondReady = false;
    const second = prepareRunMounts([spec], { root: s.root }).then((m) => ((secondReady = true), m));
    // A private user probing the same dir finds it held, so the first user still has it.
    const probe = await prepareRunMounts([{ ...spec, sharing: "private" }], { root: s.root });
    assert.notEqual(probe.mounts[0]!.source, first.mounts[0]!.source);
    await probe.release();
    assert.equal(secondReady, false, "second user must wait while the first holds the lock");
    await first.release();
    const m = await second;
    assert.equal(m.mounts[0]!.source, first.mounts[0]!.source);
    await m.release();
  } finally {
    s.done();
  }
});

test("tmpfs: mounted with its size", { skip }, async () => {
  const s = scratch();
  try {
    await using m = await prepareRunMounts([{ type: "tmpfs", target: "/t", size: 1 << 20 }], { root: s.root });
    assert.deepEqual(m.mounts[0]?.options, ["nosuid", "nodev", "size=1048576"]);
    const out = await shellInMounts([s.rootfs, ...m.mounts], `awk '$2 == "'"$M"'/t" {print $3, $4}' /proc/mounts`);
    assert.match(out, /^tmpfs .*size=1024k/);
  } finally {
    s.done();
  }
});

test("secret: read-only file with its mode, env variant, optional vs required, gone after release", { skip }, async () => {
  const s = scratch();
  try {
    const secretFile = join(s.ctx, "..", "token.txt");
    writeFileSync(secretFile, "s3cr3t");
    const secrets = new Map([["token", { file: secretFile }], ["fromenv", { env: "MY_TOKEN" }]]);
    const opts = { root: s.root, secrets, env: { MY_TOKEN: "envval" } };
    const m = await prepareRunMounts(
      [{ type: "secret", id: "token" }, { type: "secret", id: "fromenv", env: "TOKEN" }, { type: "secret", id: "absent" }],
      opts,
    );
    assert.deepEqual(m.env, ["TOKEN=envval"]);
    assert.equal(m.mounts.length, 1, "env-only and absent optional secrets add no mount");
    assert.equal(m.mounts[0]!.target, "/run/secrets/token");
    const out = await shellInMounts([s.rootfs, ...m.mounts], 'cat "$M/run/secrets/token"; echo; stat -c %a "$M/run/secrets/token"; echo x > "$M/run/secrets/token" 2>/dev/null || echo ro');
    assert.equal(out, "s3cr3t\n400\nro\n");
    const host = m.mounts[0]!.source;
    await m.release();
    assert.ok(!existsSync(host), "the secret file is deleted after the RUN");
    await assert.rejects(prepareRunMounts([{ type: "secret", id: "absent", required: true }], opts), (e: RunMountError) => e.code === "run-mount/secret-missing");
    assert.deepEqual(readdir(join(s.root, "tmp")), [], "a failed prepare leaves no scratch behind");
  } finally {
    s.done();
  }
});

test("ssh: the agent socket is bound at the default target and SSH_AUTH_SOCK set", { skip }, async () => {
  const s = scratch();
  const sock = join(s.root, "..", "agent.sock");
  const server = createServer((c) => c.end("agent-hello"));
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    await using m = await prepareRunMounts([{ type: "ssh" }], { root: s.root, env: { SSH_AUTH_SOCK: sock } });
    assert.deepEqual(m.env, ["SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"]);
    const out = await shellInMounts([s.rootfs, ...m.mounts], 'test -S "$M/run/buildkit/ssh_agent.0" && echo socket');
    assert.equal(out, "socket\n");
    await assert.rejects(prepareRunMounts([{ type: "ssh", required: true }], { root: s.root, env: {} }), (e: RunMountError) => e.code === "run-mount/ssh-missing");
    const none = await prepareRunMounts([{ type: "ssh" }], { root: s.root, env: {} });
    assert.deepEqual(none.mounts, []);
    await none.release();
  } finally {
    server.close();
    s.done();
  }
});

function readdir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
