/**
 * A read-only layer under every RUN's overlay root holding empty mount points for what the
 * sandbox always mounts (native/helper.c: /proc, /sys, /dev, /etc/hosts, /etc/resolv.conf; see
 * SANDBOX_MOUNT_POINTS). Where the image lacks them the helper then finds them in the merged view
 * instead of creating them in the upper dir: no copy-up of /etc, no create and delete of stub
 * files per RUN, and no spurious /etc entry in every RUN's layer. Image layers always win over it,
 * and it is never part of a snapshot's chain, so it never reaches an image.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomHex } from "../../internal/random-hex.js";

/** The layer's path relative to the snapshots dir (no 8-hex id, so never taken for a snapshot). */
export const STUB_LAYER = "sandbox-stubs/fs";

const DIRS = ["proc", "sys", "dev", "etc"];
const FILES = ["etc/hosts", "etc/resolv.conf"];
/**
 * Creates the stub layer under `snapshotsDir` unless it is there (atomically: built aside, then
 * renamed). Checked on every call (one stat): a root may be deleted and made again.
 */
export function ensureStubLayer(snapshotsDir: string): string {
  const dir = join(snapshotsDir, "sandbox-stubs");
  if (!existsSync(dir)) {
    const tmp = join(snapshotsDir, `.tmp-${process.pid}-${randomHex(6)}`);
    try {
      mkdirSync(join(tmp, "fs"), { recursive: true });
      for (const d of ["", ...DIRS]) {
        mkdirSync(join(tmp, "fs", d), { recursive: true });
        chmodSync(join(tmp, "fs", d), 0o755); // whatever the umask: it may show as the image's /etc
      }
      for (const f of FILES) {
        writeFileSync(join(tmp, "fs", f), "");
        chmodSync(join(tmp, "fs", f), 0o644);
      }
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(dir)) throw err; // else another process made it first
    }
  }
  return STUB_LAYER;
}
