/**
 * `--load` into a real Docker daemon through its socket. Runs where Debian's docker.io is
 * installed (dockerd started here on a private socket and data root); skipped elsewhere.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeFixtureRoot, type FixtureRoot } from "../support/build-fixture.js";

const DOCKERD = "/usr/sbin/dockerd";
const DOCKER = "/usr/bin/docker";
let skip: string | undefined = existsSync(DOCKERD) && existsSync(DOCKER) ? undefined : "Docker (docker.io) is not installed";
let fx: FixtureRoot;
let daemon: ChildProcess | undefined;
let dir: string;
let socket: string;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "tsbuild-dockerd-"));
  socket = join(dir, "docker.sock");
  daemon = spawn(DOCKERD, ["--data-root", join(dir, "data"), "--exec-root", join(dir, "exec"), "--pidfile", join(dir, "pid"), "--host", `unix://${socket}`, "--iptables=false", "--bridge=none"], { stdio: "ignore" });
  for (let i = 0; i < 100 && spawnSync(DOCKER, ["-H", `unix://${socket}`, "version"]).status !== 0; i++) await sleep(100);
  if (spawnSync(DOCKER, ["-H", `unix://${socket}`, "version"]).status !== 0) skip = "dockerd did not start here";
  else fx = await makeFixtureRoot();
});

after(async () => {
  daemon?.kill("SIGTERM");
  if (daemon && daemon.exitCode === null) await new Promise((r) => daemon!.once("exit", r));
  fx?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("--load hands the image to a running Docker daemon, which runs it", async (t) => {
  if (skip) return t.skip(skip);
  const ctx = fx.context({ Dockerfile: "FROM busybox\nCOPY msg.txt /msg.txt\nCMD [\"cat\", \"/msg.txt\"]\n", "msg.txt": "loaded\n" });
  const { result } = await fx.build({ context: ctx, tags: ["loaded/app:1"], load: true, env: { ...process.env, DOCKER_HOST: `unix://${socket}` } });
  const inspect = spawnSync(DOCKER, ["-H", `unix://${socket}`, "image", "inspect", "--format", "{{.Id}}", "loaded/app:1"], { encoding: "utf8" });
  assert.equal(inspect.status, 0, inspect.stderr);
  assert.equal(inspect.stdout.trim(), result.configDigest, "Docker's image ID is the config digest");
  const run = spawnSync(DOCKER, ["-H", `unix://${socket}`, "run", "--rm", "--network", "none", "loaded/app:1"], { encoding: "utf8" });
  assert.equal(run.stdout, "loaded\n", run.stderr);
});
