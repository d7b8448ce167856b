#!/usr/bin/env node
"use strict";
// The CLI, bundled into dist/tsbuild.cjs by scripts/bundle-cli.mjs (npm install / npm run build).
// It is compiled through V8's code cache: the bundle is half a megabyte and every no-op rebuild
// pays its compilation. The cache is written after the first successful build (by then the
// build's functions are compiled too) next to the bundle, when that directory is writable.
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const Module = require("node:module");

const bundle = path.join(__dirname, "..", "dist", "tsbuild.cjs");
const cacheFile = `${bundle}.v8cache`;
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  // no cache yet
}
const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, "utf8")), { filename: bundle, cachedData });
const loaded = { exports: {} };
script.runInThisContext().call(loaded.exports, loaded.exports, Module.createRequire(bundle), loaded, bundle, path.dirname(bundle));

const args = process.argv.slice(2);
loaded.exports.main(args).then((code) => {
  if (code === 0 && args[0] === "build" && (cachedData === undefined || script.cachedDataRejected)) writeCodeCache();
  // main() has awaited everything a command does (output is written synchronously on Linux):
  // exiting now skips tearing down the heap, ~6 ms of a 90 ms no-op rebuild.
  process.exit(code);
});

function writeCodeCache() {
  const tmp = `${cacheFile}.${process.pid}`;
  try {
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, cacheFile);
  } catch {
    fs.rmSync(tmp, { force: true }); // a read-only install runs without the cache
  }
}
