/**
 * The process the benchmark times for tsbuild. `build …` goes to the real CLI command
 * (src/cli/commands/build.ts) when it exists; until then to a small runner over the library's
 * `build()` that takes the same flags the bench passes (-f, -t, -o, --no-cache, --progress, CONTEXT).
 * Every other command (`load`) goes to the CLI. The root comes from TSBUILD_ROOT.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const hasCliBuild = [".js", ".ts"].some((ext) => existsSync(join(here, "..", "src", "cli", "commands", `build${ext}`)));

if (argv[0] !== "build" || (hasCliBuild && process.env.BENCH_FORCE_LIBRARY !== "1")) {
  const { main } = await import("../src/cli/main.js");
  process.exitCode = await main(argv);
} else {
  const { values, positionals } = parseArgs({
    args: argv.slice(1),
    allowPositionals: true,
    options: {
      file: { type: "string", short: "f" },
      tag: { type: "string", short: "t", multiple: true },
      output: { type: "string", short: "o", multiple: true },
      "no-cache": { type: "boolean" },
      progress: { type: "string" },
    },
  });
  const { build } = await import("../src/index.js");
  const result = await build({
    context: positionals[0] ?? ".",
    ...(values.file ? { file: values.file } : {}),
    tags: values.tag ?? [],
    ...(values.output ? { outputs: values.output } : {}),
    noCache: values["no-cache"] ?? false,
  });
  process.stderr.write(`bench-runner: ${result.digest} steps=${result.stats.steps} cached=${result.stats.cached}\n`);
}
