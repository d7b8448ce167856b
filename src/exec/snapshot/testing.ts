/**
 * Test support: performs Mounts with mount(8) inside a throwaway mount namespace
 * (`unshare -m`), runs a shell script against them, and leaves nothing mounted. Only tests use
 * this; tsbuild itself hands mounts to the native helper.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Mount } from "../types.js";
import { runCommand } from "./command.js";

/**
 * Mounts `mounts` (the first one with target "/") at a scratch mount point and runs `script`
 * with `$M` set to it; returns stdout. Missing targets of later mounts are created as stubs
 * (a file when a bind's source is not a directory), as the helper does.
 */
export async function shellInMounts(mounts: Mount[], script: string): Promise<string> {
  const m = mkdtempSync(join(tmpdir(), "tsbuild-mnt-"));
  const lines = ["set -e", `M=${quote(m)}`, "export M"];
  for (const mount of mounts) lines.push(mountCommand(mount));
  lines.push(script);
  try {
    return await runCommand("unshare", ["-m", "sh", "-c", lines.join("\n")]);
  } finally {
    rmSync(m, { recursive: true, force: true });
  }
}

function mountCommand(mount: Mount): string {
  const at = mount.target === "/" ? '"$M"' : `"$M"${quote(mount.target)}`;
  const stub = mount.target === "/" ? "" : `if [ -d ${quote(mount.source)} ] || [ ${quote(mount.type)} != bind ]; then mkdir -p ${at}; else mkdir -p "$(dirname ${at})"; [ -e ${at} ] || : > ${at}; fi; `;
  const ro = mount.options.includes("ro");
  const cd = mount.cwd ? `cd ${quote(mount.cwd)} && ` : "";
  switch (mount.type) {
    case "overlay":
      return `(${stub}${cd}mount -t overlay overlay -o ${quote(mount.options.join(","))} ${at})`;
    case "tmpfs": {
      const opts = mount.options.filter((o) => o !== "ro" && o !== "rw");
      return `${stub}mount -t tmpfs ${opts.length ? `-o ${quote(opts.join(","))}` : ""} tmpfs ${at}`;
    }
    case "bind":
      return `${stub}mount --rbind ${quote(mount.source)} ${at}${ro ? `; mount -o remount,bind,ro ${at}` : ""}`;
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
