/**
 * Copying trees with host tools so that owners, modes, nanosecond mtimes, hard links, device
 * nodes and extended attributes (file capabilities) survive: `cp -a` for whole trees, a
 * `tar | tar` pipe for a chosen list of entries.
 */
import { spawn } from "../../internal/lazy-node.js";
import { randomHex } from "../../internal/random-hex.js";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../../errors/index.js";
import { runCommand } from "./command.js";

/** Copies the contents of `src` into the existing directory `dst` (reflinks where possible). */
export async function copyTree(src: string, dst: string): Promise<void> {
  await runCommand("cp", ["-a", "--reflink=auto", "--", `${src}/.`, `${dst}/`]);
}

const TAR_FLAGS = ["--xattrs", "--xattrs-include=*", "--numeric-owner"];

/**
 * Copies the entries `relPaths` (relative to `src`, parents listed before children; each entry
 * alone, directories without their contents) to the same paths under `dst`.
 */
export async function copyEntries(src: string, relPaths: string[], dst: string, scratchDir: string): Promise<void> {
  if (relPaths.length === 0) return;
  const list = join(scratchDir, `.copy-list-${randomHex(4)}`);
  writeFileSync(list, relPaths.map((p) => `./${p}\0`).join(""));
  try {
    await tarPipe(
      ["-C", src, "--format=posix", ...TAR_FLAGS, "--no-recursion", "--null", "--verbatim-files-from", "-T", list, "-cf", "-"],
      ["-C", dst, ...TAR_FLAGS, "-xpf", "-"],
    );
  } finally {
    rmSync(list, { force: true });
  }
}

function tarPipe(createArgs: string[], extractArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn("tar", createArgs, { stdio: ["ignore", "pipe", "pipe"] });
    const x = spawn("tar", extractArgs, { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    x.stderr.on("data", (d: Buffer) => (err += d.toString()));
    x.stdin.on("error", () => {}); // reported by the exit codes below
    c.stdout.pipe(x.stdin);
    let pending = 2;
    let failed = false;
    const done = (code: number | null) => {
      if (code !== 0) failed = true;
      if (--pending > 0) return;
      if (failed) reject(new TsbuildError("exec/tool-failed", `copying with tar failed: ${err.trim()}`));
      else resolve();
    };
    c.on("close", done);
    x.on("close", done);
    c.on("error", reject);
    x.on("error", reject);
  });
}
