#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's built-in test runner (TypeScript via tsx).
// Arguments narrow the run to files whose path contains one of them: `npm test -- src/parser`.
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}

const files = ["src", "test"]
  .flatMap((d) => walk(join(root, d), []))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const concurrency = process.env.TSBUILD_TEST_CONCURRENCY ?? "2";
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...files],
  { cwd: root, stdio: "inherit" },
);
process.exit(r.status ?? 1);
