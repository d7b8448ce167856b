#!/usr/bin/env node
// Compiles the sandbox helper in native/ with the machine's C compiler during `npm install`.
// No download: the source ships with the package. Skipped (with a message) off Linux.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const src = join(root, "native", "helper.c");
if (process.platform !== "linux") {
  console.error("tsbuild: the sandbox helper needs Linux; RUN steps will not work on " + process.platform);
  process.exit(0);
}
if (!existsSync(src)) process.exit(0);
const outDir = join(root, "native", "build");
mkdirSync(outDir, { recursive: true });
const cc = process.env.CC ?? "cc";
const r = spawnSync(cc, ["-O2", "-Wall", "-Wextra", "-o", join(outDir, "tsbuild-helper"), src], { stdio: "inherit" });
if (r.status !== 0) {
  console.error(`tsbuild: compiling ${src} with ${cc} failed; install a C compiler (apt-get install gcc)`);
  process.exit(1);
}
