/**
 * `tsbuild build` end to end: real builds through the CLI in every progress mode, with stdout and
 * stderr kept apart, BuildKit's failure block, exit codes, and the files CI reads.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { memoryControllerMissing } from "../support/cgroups.js";
import { makeFixture, runCli, ensureBuiltPackage, stripAnsi, REPO, type Fixture } from "./support.js";

let fx: Fixture;
let ctx: string;
let failing: string;

before(async () => {
  fx = await makeFixture("tsbuild-cli-");
  ctx = join(fx.dir, "ctx");
  mkdirSync(ctx);
  writeFileSync(join(ctx, "greeting.txt"), "hello from the context\n");
  writeFileSync(join(ctx, "Dockerfile"), ["FROM busybox", "COPY greeting.txt /greeting.txt", "RUN cat /greeting.txt && echo built-by-cli", 'CMD ["cat", "/greeting.txt"]', ""].join("\n"));
  failing = join(fx.dir, "failing");
  mkdirSync(failing);
  writeFileSync(join(failing, "Dockerfile"), ["FROM busybox", "RUN echo first", "", "RUN echo to-stdout && echo to-stderr >&2 && exit 3", 'CMD ["sh"]', ""].join("\n"));
});
after(() => fx.cleanup());

const env = () => ({ TSBUILD_ROOT: fx.root });

test("plain progress goes to stderr; --iidfile and --metadata-file hold the result", async () => {
  const iid = join(fx.dir, "iid");
  const meta = join(fx.dir, "meta.json");
  const r = await runCli(["build", "--progress=plain", "-t", "cli-plain:1", "--label", "a=b", "--iidfile", iid, "--metadata-file", meta, ctx], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^#\d+ \[3\/4\] RUN cat \/greeting.txt && echo built-by-cli$/m);
  assert.match(r.stderr, /^#\d+ [\d.]+ hello from the context$/m);
  assert.match(r.stderr, /^#\d+ DONE [\d.]+s$/m);
  const id = readFileSync(iid, "utf8");
  assert.match(id, /^sha256:[0-9a-f]{64}$/, "iidfile is the config digest without a newline");
  const m = JSON.parse(readFileSync(meta, "utf8")) as Record<string, unknown>;
  assert.equal(m["containerimage.config.digest"], id);
  assert.match(String(m["containerimage.digest"]), /^sha256:[0-9a-f]{64}$/);
  const desc = m["containerimage.descriptor"] as { digest: string; mediaType: string };
  assert.equal(desc.digest, m["containerimage.digest"]);
  assert.match(desc.mediaType, /manifest/);
  assert.equal(m["image.name"], "docker.io/library/cli-plain:1");
});

test("-q prints only the image ID on stdout and nothing on stderr; --explain-cache says every step was cached", async () => {
  const q = await runCli(["build", "-q", ctx], { env: env() });
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(q.stderr, "");
  const x = await runCli(["build", "-q", "--explain-cache", ctx], { env: env() });
  assert.equal(x.stdout, q.stdout);
  assert.match(x.stderr, /Cache: 2 of 2 steps cached, 0 ran/);
  assert.match(x.stderr, /CACHED +\[3\/4\] RUN cat/);
  const miss = await runCli(["build", "-q", "--explain-cache", "--no-cache-filter", "stage-0", ctx], { env: env() });
  assert.equal(miss.code, 0, miss.stderr);
  assert.match(miss.stderr, /MISS +\[3\/4\] RUN cat \/greeting.txt && echo built-by-cli: \S/);
});

test("rawjson: every stderr line is a BuildKit SolveStatus; logs are base64", async () => {
  const r = await runCli(["build", "--progress", "rawjson", "--no-cache", ctx], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  const events = r.stderr.trim().split("\n").map((l) => JSON.parse(l) as { vertexes?: { name: string; completed?: string }[]; logs?: { data: string }[] });
  const names = new Set(events.flatMap((e) => e.vertexes ?? []).map((v) => v.name));
  assert.ok(names.has("[3/4] RUN cat /greeting.txt && echo built-by-cli"), [...names].join("\n"));
  const logText = events.flatMap((e) => e.logs ?? []).map((l) => Buffer.from(l.data, "base64").toString()).join("");
  assert.match(logText, /built-by-cli/);
});

test("BUILDKIT_PROGRESS picks the mode when --progress is auto; quiet prints nothing but the ID", async () => {
  const r = await runCli(["build", ctx], { env: { ...env(), BUILDKIT_PROGRESS: "quiet" } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const bad = await runCli(["build", "--progress=plian", ctx], { env: env() });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /did you mean "plain"/);
});

test("tty mode (forced) draws the step lines and collapses to FINISHED", async () => {
  const r = await runCli(["build", "--progress=tty", ctx], { env: { ...env(), NO_COLOR: "1" } });
  assert.equal(r.code, 0, r.stderr);
  const screen = stripAnsi(r.stderr);
  assert.match(screen, /\[\+\] Building [\d.]+s \((\d+)\/\1\) FINISHED/);
  assert.match(screen, / => CACHED \[3\/4\] RUN cat/);
  assert.doesNotMatch(r.stderr, /\x1b\[3\dm/, "NO_COLOR: no colour codes");
});

test("a failing RUN exits 1 with BuildKit's error block: output tail, code frame, failed to solve", async () => {
  const r = await runCli(["build", "--progress=plain", failing], { env: env() });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  const block = r.stderr.slice(r.stderr.lastIndexOf("------\n > "));
  assert.match(block, /^------\n > \[3\/4\] RUN echo to-stdout && echo to-stderr >&2 && exit 3:\n(to-stdout\nto-stderr|to-stderr\nto-stdout)\n------\n/);
  assert.match(block, /Dockerfile:4\n-{20}\n {3}2 \| {5}RUN echo first\n {3}3 \|\n {3}4 \| >>> RUN echo to-stdout && echo to-stderr >&2 && exit 3\n {3}5 \| {5}CMD \["sh"\]\n-{20}\n/);
  assert.match(block, /\nERROR: failed to solve: process "\/bin\/sh -c echo to-stdout && echo to-stderr >&2 && exit 3" did not complete successfully: exit code: 3\n$/);
});

test("a RUN over --memory fails and the error says it ran out of memory", async (t) => {
  const reason = memoryControllerMissing();
  if (reason) return t.skip(reason);
  const hungry = join(fx.dir, "hungry");
  mkdirSync(hungry);
  // 64 MiB into a shell variable, four times the limit
  writeFileSync(join(hungry, "Dockerfile"), ["FROM busybox", "RUN v=$(head -c 67108864 /dev/zero | tr '\\0' x); echo ${#v}", ""].join("\n"));
  const r = await runCli(["build", "--progress=plain", "--memory", "16m", hungry], { env: env() });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\nERROR: failed to solve: process "\/bin\/sh -c v=.*" did not complete successfully: signal: SIGKILL \(out of memory: a process of this RUN was killed for going over the --memory limit of 16 MiB\)\n$/);
});

test("under GitHub Actions a failure is an ::error annotation on stdout and a job summary", async () => {
  const summary = join(fx.dir, "summary.md");
  const r = await runCli(["build", "--progress=plain", failing], { env: { ...env(), GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: fx.dir } });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '::error file=failing/Dockerfile,line=4,endLine=4,title=Build failed::failed to solve: process "/bin/sh -c echo to-stdout && echo to-stderr >&2 && exit 3" did not complete successfully: exit code: 3\n');
  const ok = await runCli(["build", "-q", "-t", "gha:1", ctx], { env: { ...env(), GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary } });
  assert.equal(ok.code, 0, ok.stderr);
  const md = readFileSync(summary, "utf8");
  assert.match(md, /\| Status \| ❌ failed \|/);
  assert.match(md, /\| Status \| ✅ built \|/);
  assert.match(md, /\| Cache hits \| 2\/2 \|/);
  assert.ok(md.includes(`| Image ID | \`${ok.stdout.trim()}\` |`));
});

test("usage errors exit 2 with a suggestion", async () => {
  const r = await runCli(["build", "--tagg", "x", ctx], { env: env() });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown flag: --tagg; did you mean "--tag"\?/);
  const noCtx = await runCli(["build", "-t", "x"], { env: env() });
  assert.equal(noCtx.code, 2);
  assert.match(noCtx.stderr, /requires exactly 1 argument/);
  const badOut = await runCli(["build", "-o", "type=floppy,dest=x", ctx], { env: env() });
  assert.equal(badOut.code, 2);
  assert.match(badOut.stderr, /unknown --output type "floppy"/);
  const badCache = await runCli(["build", "--cache-to", "type=nfs,dest=x", ctx], { env: env() });
  assert.equal(badCache.code, 2);
  assert.match(badCache.stderr, /invalid --cache-to type "nfs"/);
});

test("-f - reads the Dockerfile from stdin; --cache-from is accepted with one warning", async () => {
  const r = await runCli(["build", "-q", "-f", "-", "--cache-from", "user/app:cache", "--cache-to", "type=local,dest=/tmp/x,mode=max", ctx], { env: env(), stdin: "FROM busybox\nRUN echo from-stdin > /s\n" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(r.stderr.match(/WARNING: remote cache import\/export .* not supported yet/g)?.length, 1);
});

test("help lists the flags", async () => {
  const r = await runCli(["build", "--help"]);
  assert.equal(r.code, 0);
  for (const f of ["--file", "--tag", "--build-arg", "--progress", "--iidfile", "--metadata-file", "--output", "--cache-from", "--explain-cache"]) assert.ok(r.stdout.includes(f), f);
  const top = await runCli(["--help"]);
  assert.match(top.stdout, /build +Build an image from a Dockerfile/);
});

test("the packaged bin: `tsbuild [OPTIONS] CONTEXT` builds, -o - writes a tar to stdout only", () => {
  ensureBuiltPackage();
  const bin = join(REPO, "bin/tsbuild.cjs");
  const q = spawnSync(process.execPath, [bin, "-q", ctx], { env: { ...process.env, TSBUILD_ROOT: fx.root }, encoding: "utf8" });
  assert.equal(q.status, 0, q.stderr);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const tar = spawnSync(process.execPath, [bin, "build", "--progress=plain", "-o", "-", ctx], { env: { ...process.env, TSBUILD_ROOT: fx.root }, maxBuffer: 1 << 28 });
  assert.equal(tar.status, 0, tar.stderr.toString());
  assert.equal(tar.stdout.subarray(257, 262).toString(), "ustar", "stdout is a tar archive");
  assert.ok(tar.stdout.includes(Buffer.from("hello from the context")), "the tar holds the image filesystem");
  assert.match(tar.stderr.toString(), /^#\d+ exporting to tar/m);
  const fail = spawnSync(process.execPath, [bin, "build", "--progress=plain", failing], { env: { ...process.env, TSBUILD_ROOT: fx.root }, encoding: "utf8" });
  assert.equal(fail.status, 1);
  assert.match(fail.stderr, /ERROR: failed to solve: process "\/bin\/sh -c echo to-stdout/);
  assert.ok(existsSync(bin));
});

test("SIGINT cancels the build: the sandbox stops, CANCELED is shown and the exit code is 130", async () => {
  ensureBuiltPackage();
  const marker = `sigint-${process.pid}-${Date.now()}`;
  const dir = join(fx.dir, "sigint");
  mkdirSync(dir);
  writeFileSync(join(dir, "Dockerfile"), `FROM busybox\nRUN echo ${marker} && sleep 30\n`);
  const child = spawn(process.execPath, [join(REPO, "bin/tsbuild.cjs"), "build", "--progress=plain", dir], { env: { ...process.env, TSBUILD_ROOT: fx.root } });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    if (stderr.includes(` ${marker}\n`) && !child.killed) child.kill("SIGINT");
  });
  const code = await new Promise<number | null>((res) => child.on("close", (c) => res(c)));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /^#\d+ CANCELED$/m);
  assert.match(stderr, /ERROR: build cancelled/);
  const alive = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(marker);
    } catch {
      return false;
    }
  });
  assert.deepEqual(alive, []);
});
