#!/usr/bin/env node
// Compiles the native helpers in native/ with the machine's C compiler during `npm install`.
// No download: the source ships with the package. Skipped (with a message) off Linux.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
// Each of these native/<name>.c is one small program, built as native/build/tsbuild-<name>.
const programs = ["helper.c", "fsutil.c"];
// Each of these is a Node addon (N-API), built from its sources as native/build/tsbuild-<name>.node.
// Optional: tsbuild has a slower JavaScript path for each, used when the addon is missing.
const addons = [{ name: "fsaddon", sources: ["fsaddon.c", "layerhash.c"] }];
if (process.platform !== "linux") {
  console.error("tsbuild: the sandbox helper needs Linux; RUN steps will not work on " + process.platform);
  process.exit(0);
}
const outDir = join(root, "native", "build");
mkdirSync(outDir, { recursive: true });
const cc = process.env.CC ?? "cc";
const warnings = ["-Wall", "-Wextra"];

for (const file of programs) {
  const src = join(root, "native", file);
  if (!existsSync(src)) continue;
  const out = join(outDir, "tsbuild-" + file.replace(/\.c$/, ""));
  const r = spawnSync(cc, ["-O2", ...warnings, "-o", out, src], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`tsbuild: compiling ${src} with ${cc} failed; install a C compiler (apt-get install gcc)`);
    process.exit(1);
  }
}

// Node's headers ship with Node (Debian's and NodeSource's nodejs packages: /usr/include/node);
// npm_config_nodedir points elsewhere when set. Symbols resolve against the running node.
const nodeInclude = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, "include", "node"), join(dirname(process.execPath), "..", "include", "node")].find(
  (dir) => dir && existsSync(join(dir, "node_api.h")),
);
// Node's own OpenSSL headers come with them (include/node/openssl); its symbols, like N-API's,
// resolve against the running node, which exports them for addons.
for (const { name, sources } of addons) {
  const srcs = sources.map((file) => join(root, "native", file));
  if (!srcs.every((src) => existsSync(src))) continue;
  const out = join(outDir, `tsbuild-${name}.node`);
  if (!nodeInclude) {
    console.error(`tsbuild: Node's headers (node_api.h) are not installed; ${name} not built, tsbuild uses its JavaScript fallback`);
    continue;
  }
  const r = spawnSync(cc, ["-O2", ...warnings, "-shared", "-fPIC", "-I", nodeInclude, "-o", out, ...srcs, "-lm"], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`tsbuild: compiling ${srcs.join(" ")} with ${cc} failed; tsbuild uses its JavaScript fallback`);
  }
}
