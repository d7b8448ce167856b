/**
 * A minimal busybox root directory for tests: /bin/busybox (Debian's busybox-static) with a
 * symlink per applet, /etc/passwd and /etc/group (root, nobody, and `app` uid/gid 1000 that is
 * also a member of group `staff` gid 50), /tmp 1777, /root and /home/app. Nothing is mounted.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's busybox-static installs the binary (scripts/setup-test-env.sh installs it). */
export const BUSYBOX = "/bin/busybox";

export const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "app:x:1000:1000:app:/home/app:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");

export const GROUP = ["root:x:0:", "staff:x:50:app", "app:x:1000:", "nogroup:x:65534:", ""].join("\n");

/** Why the rootfs cannot be made on this machine, or undefined when it can (for `skip`). */
export function busyboxMissing(): string | undefined {
  return existsSync(BUSYBOX) ? undefined : `${BUSYBOX} not found: run scripts/setup-test-env.sh (busybox-static)`;
}

/** Fills `dir` (created if missing) with the busybox root; returns `dir`. */
export function createBusyboxRootfs(dir: string): string {
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "home/app", "tmp", "proc", "sys", "dev", "var"]) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  copyFileSync(BUSYBOX, join(dir, "bin", "busybox"));
  chmodSync(join(dir, "bin", "busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const applet of applets) {
    if (applet === "busybox") continue;
    symlinkSync("busybox", join(dir, "bin", applet));
  }
  writeFileSync(join(dir, "etc", "passwd"), PASSWD);
  writeFileSync(join(dir, "etc", "group"), GROUP);
  chmodSync(join(dir, "tmp"), 0o1777);
  chmodSync(join(dir, "root"), 0o700);
  chownSync(join(dir, "home", "app"), 1000, 1000);
  return dir;
}

let shared: string | undefined;

/**
 * One busybox root per test process, made on first use under the OS temp dir and removed at
 * exit. Treat it as read-only (use it as an overlay lower dir).
 */
export function sharedBusyboxRootfs(): string {
  if (shared) return shared;
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-rootfs-"));
  chmodSync(dir, 0o755);
  createBusyboxRootfs(join(dir, "rootfs"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  shared = join(dir, "rootfs");
  return shared;
}
