/**
 * Reading overlay opaque markers (the `trusted.overlay.opaque` xattr), which Node cannot do:
 * through native/build/tsbuild-fsutil when built, else the `getfattr` tool (Debian `attr`).
 */
import { spawn } from "../../internal/lazy-node.js";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { findFsutil } from "../../internal/native-build.js";
import { TsbuildError } from "../../errors/index.js";
import { runCommand } from "./command.js";

const OPAQUE = "trusted.overlay.opaque";

/** Paths (relative to `root`, "." for root) of directories marked opaque. */
export async function findOpaqueDirs(root: string): Promise<Set<string>> {
  const fsutil = findFsutil();
  if (fsutil) return opaqueWithFsutil(fsutil, root);
  if (onPath("getfattr")) return opaqueWithGetfattr(root);
  throw new TsbuildError(
    "snapshot/xattr-unavailable",
    "reading overlay opaque markers needs native/build/tsbuild-fsutil (npm install) or getfattr (apt-get install attr)",
  );
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => d && existsSync(join(d, tool)));
}

/** One `lxattrs ROOT` command; replies are NUL-separated fields: x PATH NAME HEX …, then ok|err MSG. */
function opaqueWithFsutil(binary: string, root: string): Promise<Set<string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.on("error", reject);
    child.on("close", () => {
      const fields = Buffer.concat(chunks).toString("latin1").split("\0");
      const found = new Set<string>();
      let i = 0;
      while (fields[i] === "x") {
        if (fields[i + 2] === OPAQUE && Buffer.from(fields[i + 3] ?? "", "hex").toString() === "y") {
          found.add(Buffer.from(fields[i + 1] ?? "", "latin1").toString());
        }
        i += 4;
      }
      if (fields[i] === "ok") resolve(found);
      else reject(new TsbuildError("snapshot/xattr-failed", `tsbuild-fsutil lxattrs ${root}: ${fields[i + 1] ?? "no reply"}`));
    });
    child.stdin.end(Buffer.from(`lxattrs\0${root}\0`));
  });
}

async function opaqueWithGetfattr(root: string): Promise<Set<string>> {
  const text = await runCommand("getfattr", ["-R", "-P", "--absolute-names", "-m", "^trusted\\.overlay\\.opaque$", "-d", root]);
  const found = new Set<string>();
  let file: string | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("# file: ")) file = unescapeOctal(line.slice("# file: ".length));
    else if (file !== undefined && line === `${OPAQUE}="y"`) found.add(relative(root, file) || ".");
  }
  return found;
}

/** getfattr escapes unusual bytes as \ooo. */
function unescapeOctal(s: string): string {
  const bytes = Buffer.from(s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), "latin1");
  return bytes.toString();
}
