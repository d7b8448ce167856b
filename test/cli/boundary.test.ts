/**
 * The CLI is a client of the library: its modules import only the public API (src/index.ts),
 * their siblings in src/cli, and node: built-ins. The public declarations leak no `any`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO } from "./support.js";


function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [join(dir, e.name)] : []));
}

test("src/cli imports nothing but ../index.js, its own modules and node: built-ins", () => {
  const cli = join(REPO, "src/cli");
  const bad: string[] = [];
  for (const file of walk(cli)) {
    const rel = relative(cli, file);
    const depth = rel.split("/").length - 1;
    const index = depth === 0 ? "../index.js" : "../".repeat(depth + 1) + "index.js";
    for (const m of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["']([^"']+)["']|import\(["']([^"']+)["']\)/gm)) {
      const spec = (m[1] ?? m[2])!;
      const ok = spec.startsWith("node:") || spec === index || (spec.startsWith("./") || (depth > 0 && spec.startsWith("../") && !spec.startsWith("../".repeat(depth + 1))));
      if (!ok) bad.push(`${rel}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("the public entry's declarations have no explicit any", () => {
  const files = ["src/index.ts", "src/build/types.ts", "src/progress/types.ts", "src/progress/select.ts", "src/progress/tty.ts", "src/errors/index.ts"];
  for (const f of files) assert.doesNotMatch(readFileSync(join(REPO, f), "utf8"), /:\s*any\b|<any>|as any\b/, f);
});
