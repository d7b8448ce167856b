/**
 * Whether overlayfs can be mounted with layers under the tsbuild root. The probe mounts in a
 * throwaway mount namespace (`unshare -m`), so nothing stays mounted whatever happens.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomHex } from "../../internal/random-hex.js";
import { ROOT_DIRS } from "../../internal/root.js";
import { runCommand } from "./command.js";

const probed = new Map<string, Promise<boolean>>();

/** Probes once per root and process. */
export function overlaySupported(root: string): Promise<boolean> {
  let p = probed.get(root);
  if (!p) {
    p = probeOverlay(root);
    probed.set(root, p);
  }
  return p;
}

async function probeOverlay(root: string): Promise<boolean> {
  const dir = join(root, ROOT_DIRS.tmp, `overlay-probe-${process.pid}-${randomHex(4)}`);
  for (const d of ["l1", "l2", "u", "w", "m"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "l1", "f"), "x");
  // Reading the lower file through the merged dir proves the mount really works.
  const script = "mount -t overlay overlay -o lowerdir=l2:l1,upperdir=u,workdir=w m && cat m/f";
  try {
    return (await runCommand("unshare", ["-m", "sh", "-c", script], { cwd: dir })) === "x";
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
