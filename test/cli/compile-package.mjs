// Compiles src/ into dist/ with tsc unless dist/ is newer than every source file. Type errors
// elsewhere in the tree do not stop tsc from emitting; the test only needs the emitted package.
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const root = process.cwd();
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}
const marker = join(root, "dist/src/cli/main.js");
const fresh = existsSync(marker) && statSync(join(root, "dist/src/index.js")).mtimeMs >= newest(join(root, "src"));
if (!fresh) {
  const r = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (!existsSync(marker)) process.exit(r.status || 1);
}
// bin/tsbuild.cjs runs the bundled CLI: rebuild it too, so the packaged tests never run a stale one.
const b = spawnSync(process.execPath, [join(root, "scripts/bundle-cli.mjs")], { cwd: root, stdio: "inherit" });
if (b.status !== 0) process.exit(b.status || 1);
