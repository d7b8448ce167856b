#!/usr/bin/env node
// Bundles the CLI into one CommonJS file (dist/tsbuild.cjs) for bin/tsbuild.cjs. Every no-op
// rebuild pays Node's start-up, so the CLI loads the cheapest way measured here:
// - one module instead of ~150: 0.13 s → 0.10 s for `tsbuild --version`;
// - CommonJS instead of ESM: the ESM loader's compile and link cost ~9 ms more;
// - through V8's code cache (bin/tsbuild.cjs): another ~14 ms of CPU on a no-op build.
// - Node's stream and promise-fs modules and tar-stream loaded on first use (lazyModules): 2.5 ms;
// - whitespace and syntax minified, pure ASCII, read as latin1 (see the check below): the
//   bundle 610 -> 440 KB, its read and code-cache load ~1.2 ms less. Names are kept, so stack
//   traces still name functions; dist/tsbuild.cjs.map maps them to the sources.
// The BLAKE3 binding stays external (it is native).
import { build } from "esbuild";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = join(fileURLToPath(import.meta.url), "..", "..");

/**
 * Modules a no-op build never uses but many modules import: loading Node's stream and promise-fs
 * modules at start-up cost ~2 ms of a 0.05 s no-op rebuild (their 30 internal modules), and
 * tar-stream with its dependencies 0.3 ms more. Each import of one gets a stand-in that loads
 * the real module on first use.
 */
const LAZY_MODULES = ["node:fs/promises", "node:stream", "node:stream/promises", "tar-stream"];

/**
 * The stand-in has no properties of its own: esbuild's interop (__toESM) copies an importer's
 * view of a CommonJS module's own properties at every import site (~25 sites, ~40 names each:
 * 0.4 ms), and that view inherits from the module's prototype instead. The prototype is a proxy
 * whose every property read loads the real module and reads it there. The CLI test that writes
 * an image tar to stdout goes through tar-stream and node:stream this way.
 */
const lazyModules = {
  name: "lazy-modules",
  setup(b) {
    const filter = new RegExp(`^(${LAZY_MODULES.map((n) => n.replace(/[/]/g, "\\/")).join("|")})$`);
    b.onResolve({ filter }, (args) => {
      if (args.namespace !== "lazy-module") return { path: args.path, namespace: "lazy-module" };
      return args.path.startsWith("node:") ? { path: args.path, external: true } : undefined; // the real one: bundled as usual
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-module" }, (args) => ({
      loader: "js",
      resolveDir: root,
      contents: [
        "let loaded;",
        `const load = () => (loaded ??= require(${JSON.stringify(args.path)}));`,
        "module.exports = Object.create(new Proxy({}, { get: (_, name) => load()[name] }));",
      ].join("\n"),
    }));
  },
};

const outfile = join(root, "dist/tsbuild.cjs");
await build({
  entryPoints: [join(root, "src/cli/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // The native BLAKE3 binding and its per-platform packages stay external (see src/cache/hash.ts).
  external: ["@napi-rs/blake-hash", "@napi-rs/blake-hash-*"],
  // The sources are ESM and find native/ from their own location.
  define: { "import.meta.url": "__tsbuildModuleUrl" },
  banner: { js: 'const __tsbuildModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [lazyModules],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  logLevel: "warning",
});
// bin/tsbuild.cjs reads the bundle as latin1 (a third of the time of UTF-8 decoding): only
// right for ASCII. esbuild escapes strings but not regular expressions, so the sources write
// non-ASCII characters in those as \u escapes.
const nonAscii = /[^\x00-\x7f]/.exec(readFileSync(outfile, "latin1"));
if (nonAscii) throw new Error(`${outfile} holds a non-ASCII character at offset ${nonAscii.index}: escape it in the source (\\uXXXX)`);
// A code cache made for the previous bundle would only be rejected: drop it.
rmSync(`${outfile}.v8cache`, { force: true });
// The ESM bundle of earlier versions.
rmSync(join(root, "dist/tsbuild.mjs"), { force: true });
rmSync(join(root, "dist/tsbuild.mjs.map"), { force: true });
