#!/usr/bin/env node
// Compiles the native helpers in native/ with the machine's C compiler during `npm install`.
// No download: the source ships with the package. Skipped (with a message) off Linux.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const sources = ["helper.c", "fsutil.c"];
if (process.platform !== "linux") {
  console.error("tsbuild: the sandbox helper needs Linux; RUN steps will not work on " + process.platform);
  process.exit(0);
}
const outDir = join(root, "native", "build");
mkdirSync(outDir, { recursive: true });
const cc = process.env.CC ?? "cc";
// Each native/<name>.c is one small program, built as native/build/tsbuild-<name>.
for (const file of sources) {
  const src = join(root, "native", file);
  if (!existsSync(src)) continue;
  const out = join(outDir, "tsbuild-" + file.replace(/\.c$/, ""));
  const r = spawnSync(cc, ["-O2", "-Wall", "-Wextra", "-o", out, src], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`tsbuild: compiling ${src} with ${cc} failed; install a C compiler (apt-get install gcc)`);
    process.exit(1);
  }
}
