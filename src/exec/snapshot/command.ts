import { spawn } from "../../internal/lazy-node.js";
import { TsbuildError } from "../../errors/index.js";

/** Runs a host tool (cp, tar, mknod, unshare) and rejects with its stderr when it fails. */
export function runCommand(cmd: string, args: string[], options: { cwd?: string; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) => reject(new TsbuildError("exec/tool-failed", `running ${cmd}: ${e.message}`, { cause: e })));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new TsbuildError("exec/tool-failed", `${cmd} ${args.join(" ")} failed (${signal ?? code}): ${err.trim()}`));
    });
    if (child.stdin) {
      child.stdin.on("error", () => {}); // the exit status tells
      child.stdin.end(options.input);
    }
  });
}

/** Creates overlay whiteouts (character devices 0/0, mode 0) at `paths`; one shell per 200 paths. */
export async function makeWhiteouts(paths: string[]): Promise<void> {
  const script = 'for p do mknod -m 000 -- "$p" c 0 0 || exit 1; done';
  for (let i = 0; i < paths.length; i += 200) {
    await runCommand("sh", ["-c", script, "sh", ...paths.slice(i, i + 200)]);
  }
}
