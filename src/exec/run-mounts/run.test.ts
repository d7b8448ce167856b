/**
 * Real RUNs through the sandbox helper: a rootfs snapshot from busybox, RUN --mount specs turned
 * into mounts, the process run by createHelperExecutor.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHelperExecutor } from "../helper-executor.js";
import { findHelper } from "../helper-path.js";
import { createSnapshotter } from "../snapshot/snapshotter.js";
import type { Snapshotter } from "../snapshot/types.js";
import type { Executor } from "../types.js";
import { prepareRunMounts } from "./prepare.js";
import { cleanupMountStubs, mountStubPaths, SANDBOX_MOUNT_POINTS } from "./stubs.js";
import type { RunMountSpec, RunMountsOptions } from "./types.js";

function helperMissing(): string | false {
  if (process.getuid?.() !== 0) return "sandbox needs root";
  if (!existsSync("/bin/busybox")) return "busybox-static not installed";
  try {
    findHelper();
    return false;
  } catch {
    return "sandbox helper not built";
  }
}
const skip = helperMissing();

interface Env {
  root: string;
  snaps: Snapshotter;
  exec: Executor;
}

async function setup(): Promise<Env> {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-run-"));
  const snaps = await createSnapshotter({ root });
  const fs = mkdtempSync(join(root, "base-"));
  mkdirSync(join(fs, "bin"));
  copyFileSync("/bin/busybox", join(fs, "bin", "busybox"));
  for (const tool of ["sh", "cat", "echo", "sleep", "ls", "find", "grep"]) symlinkSync("busybox", join(fs, "bin", tool));
  await snaps.importDir("base", fs);
  return { root, snaps, exec: createHelperExecutor() };
}

/** One RUN on a fresh snapshot of base; returns stdout and the snapshot's writable dir. */
async function run(env: Env, key: string, script: string, specs: RunMountSpec[], opts: Partial<RunMountsOptions> = {}) {
  const snap = await env.snaps.prepare(key, "base");
  const mounts = await prepareRunMounts(specs, { root: env.root, ...opts });
  const stubs = mountStubPaths([snap.dir, ...(await env.snaps.chain("base")).reverse()], [...SANDBOX_MOUNT_POINTS, ...mounts.targets]);
  let stdout = "";
  let stderr = "";
  try {
    const exit = await env.exec.run(
      {
        root: snap.root,
        mounts: mounts.mounts,
        spec: { args: ["/bin/sh", "-c", script], env: ["PATH=/bin", ...mounts.env], cwd: "/", user: "0", hostname: "t", network: "none" },
      },
      { stdout: (c) => (stdout += c.toString()), stderr: (c) => (stderr += c.toString()) },
    );
    assert.deepEqual(exit, { exitCode: 0, signal: null }, stderr);
  } finally {
    await mounts.release();
  }
  return { stdout, dir: snap.dir, stubs };
}

test("RUN: a cache mount's content persists between two runs", { skip }, async () => {
  const env = await setup();
  try {
    const spec: RunMountSpec = { type: "cache", target: "/root/.cache" };
    await run(env, "r1", "echo first >> /root/.cache/log", [spec]);
    const second = await run(env, "r2", "echo second >> /root/.cache/log; cat /root/.cache/log", [spec]);
    assert.equal(second.stdout, "first\nsecond\n");
  } finally {
    rmSync(env.root, { recursive: true, force: true });
  }
});

test("RUN: sharing=locked serialises two concurrent users", { skip }, async () => {
  const env = await setup();
  try {
    const spec: RunMountSpec = { type: "cache", target: "/c", id: "serial", sharing: "locked" };
    const job = (name: string) => run(env, `job-${name}`, `echo start-${name} >> /c/log; sleep 1; echo end-${name} >> /c/log`, [spec]);
    await Promise.all([job("a"), job("b")]);
    const log = (await run(env, "read", "cat /c/log", [spec])).stdout.trim().split("\n");
    // Without the lock both starts come before both ends.
    assert.ok(
      JSON.stringify(log) === JSON.stringify(["start-a", "end-a", "start-b", "end-b"]) ||
        JSON.stringify(log) === JSON.stringify(["start-b", "end-b", "start-a", "end-a"]),
      log.join(" "),
    );
  } finally {
    rmSync(env.root, { recursive: true, force: true });
  }
});

test("RUN: a secret is readable during the RUN and absent from the upper dir afterwards", { skip }, async () => {
  const env = await setup();
  try {
    const secretFile = join(env.root, "token");
    writeFileSync(secretFile, "hunter2-value");
    const r = await run(env, "s", "cat /run/secrets/token; echo; echo $API_KEY; echo out > /made", [
      { type: "secret", id: "token" },
      { type: "secret", id: "token", env: "API_KEY" },
    ], { secrets: new Map([["token", { file: secretFile }]]) });
    assert.equal(r.stdout, "hunter2-value\nhunter2-value\n");
    cleanupMountStubs(r.dir, r.stubs);
    assert.deepEqual(readdirSync(r.dir).sort(), ["made"], "only the RUN's own file stays in the upper dir");
    assert.ok(!grepTree(r.dir, "hunter2"), "the secret value is nowhere in the snapshot");
  } finally {
    rmSync(env.root, { recursive: true, force: true });
  }
});

function grepTree(dir: string, needle: string): boolean {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() ? grepTree(p, needle) : e.isFile() && readFileSync(p).includes(needle)) return true;
  }
  return false;
}
