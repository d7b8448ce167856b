/**
 * The tty progress under a real pseudo-terminal (util-linux `script`): with no --progress, a
 * terminal on stderr selects the redrawn view; the screen ends in the FINISHED summary, and a step
 * whose output the view clipped is named with the file holding all of it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeFixture, ensureBuiltPackage, stripAnsi, REPO, type Fixture } from "./support.js";

let fx: Fixture;
let ctx: string;

before(async () => {
  fx = await makeFixture("tsbuild-tty-");
  ctx = join(fx.dir, "ctx");
  mkdirSync(ctx);
  writeFileSync(join(ctx, "Dockerfile"), ["FROM busybox", "RUN for i in $(seq 1 30); do echo tty-line-$i; done", 'CMD ["sh"]', ""].join("\n"));
  ensureBuiltPackage();
});
after(() => fx.cleanup());

function underPty(args: string[], env: NodeJS.ProcessEnv): { status: number | null; screen: string; raw: string } {
  const cmd = ["stty cols 120 rows 40;", "exec", process.execPath, join(REPO, "bin/tsbuild.cjs"), ...args.map((a) => `'${a}'`), ">/dev/null"].join(" ");
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { env: { ...process.env, TSBUILD_ROOT: fx.root, ...env }, encoding: "utf8" });
  return { status: r.status, raw: r.stdout, screen: stripAnsi(r.stdout).replace(/\r/g, "") };
}

test("auto mode on a terminal redraws in place and ends with the FINISHED summary", () => {
  const r = underPty(["build", "-t", "tty:1", ctx], {});
  assert.equal(r.status, 0, r.screen);
  assert.match(r.raw, /\x1b\[\d+A/, "the view moves the cursor up to redraw");
  assert.match(r.raw, /\x1b\[3\dm/, "colours without NO_COLOR");
  assert.doesNotMatch(r.screen, /\x1b/, "nothing but known escape sequences");
  assert.doesNotMatch(r.screen, /^#\d+ /m, "not the plain format");
  const finalBlock = r.screen.slice(r.screen.lastIndexOf("[+] Building"));
  assert.match(finalBlock, /^\[\+\] Building [\d.]+s \((\d+)\/\1\) FINISHED\n/);
  assert.match(finalBlock, /^ => \[2\/3\] RUN for i in \$\(seq 1 30\); do echo tty-line-\$i; done +[\d.]+s$/m);
  assert.match(finalBlock, /^ => exporting to image +[\d.]+s$/m);
  // The 30 lines do not fit the 6-line view: the full log is named and holds all of them.
  const path = /full output of \[2\/3\] RUN .*: (\S+\.log)$/m.exec(finalBlock)?.[1];
  assert.ok(path, finalBlock);
  const log = readFileSync(path, "utf8");
  assert.equal(log.split("\n").filter((l) => l.startsWith("tty-line-")).length, 30);
});

test("NO_COLOR turns colours off; --progress=plain on a terminal stays plain", () => {
  const r = underPty(["build", "--no-cache", ctx], { NO_COLOR: "1" });
  assert.equal(r.status, 0, r.screen);
  assert.doesNotMatch(r.raw, /\x1b\[3\dm/);
  assert.match(r.screen, /FINISHED/);
  const p = underPty(["build", "--progress=plain", ctx], {});
  assert.equal(p.status, 0, p.screen);
  assert.match(p.screen, /^#\d+ \[2\/3\] RUN for i/m);
  assert.doesNotMatch(p.raw, /\x1b\[\d+A/);
});
