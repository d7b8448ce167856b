#!/bin/sh
':' /*
# Run as a program this file is a shell script first: NODE_EXTRA_CA_CERTS makes Node parse every
# certificate in the file it names before any code runs (35 ms of a 90 ms no-op rebuild here), so
# it is handed on as TSBUILD_EXTRA_CA_CERTS and read only by a connection that needs it
# (src/internal/https-fetch.ts). Node then runs this same file as JavaScript, to which the lines
# above are a string and a comment.
if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then
  TSBUILD_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS && export TSBUILD_EXTRA_CA_CERTS && unset NODE_EXTRA_CA_CERTS
fi
exec node "$0" "$@"
*/
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
// latin1: the bundle is ASCII (scripts/bundle-cli.mjs checks), and decoding it as UTF-8 took longer.
const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, "latin1")), { filename: bundle, cachedData });
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
