/**
 * Test support: builds a tree with every kind of entry a layer carries, and describes a tree as a
 * sorted manifest that two trees can be compared by. Uses the real fsutil helper and `setcap`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "../../internal/lazy-node.js";
import {
  chmodSync,
  linkSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { FsUtil } from "./fsutil.js";
import { major, minor } from "./tar-entry.js";
import { walkTree } from "./walk.js";

/** Fills `root` (which must exist) with the round-trip fixture; every mtime is set to `mtime`. */
export async function makeFixtureTree(root: string, mtime: number): Promise<void> {
  const p = (rel: string) => join(root, rel);
  mkdirSync(p("bin"));
  mkdirSync(p("empty"));
  mkdirSync(p("etc/deep/er"), { recursive: true });
  mkdirSync(p("opaque"));
  writeFileSync(p("opaque/kept"), "new content of an opaque dir\n");
  writeFileSync(p("etc/hosts"), "127.0.0.1 localhost\n");
  writeFileSync(p("etc/secret"), "s3cret\n");
  chmodSync(p("etc/secret"), 0o600);
  writeFileSync(p("empty-file"), "");
  writeFileSync(p("bin/tool"), "#!/bin/sh\necho tool\n");
  chmodSync(p("bin/tool"), 0o755);
  writeFileSync(p("bin/suid"), "setuid program\n");
  lchownSync(p("bin/suid"), 0, 0);
  chmodSync(p("bin/suid"), 0o4755);
  writeFileSync(p("bin/pinger"), "needs a capability\n");
  // cap_setuid is bit 7, so the xattr value holds a byte 0x80: binary, not UTF-8.
  execFileSync("setcap", ["cap_setuid,cap_net_raw+ep", p("bin/pinger")]);
  mkdirSync(p("home/user"), { recursive: true });
  writeFileSync(p("home/user/notes"), "owned by 1000\n");
  lchownSync(p("home/user"), 1000, 1000);
  lchownSync(p("home/user/notes"), 1000, 1000);
  chmodSync(p("home"), 0o1777);
  // 5 MiB of varied bytes: larger than the read-whole-file limit, so it is streamed.
  const big = Buffer.alloc(5 << 20);
  for (let i = 0; i < big.length; i += 32) createHash("sha256").update(`${i}`).digest().copy(big, i);
  writeFileSync(p("big.bin"), big);
  linkSync(p("etc/hosts"), p("etc/deep/hosts-hardlink"));
  symlinkSync("../etc/hosts", p("bin/rel-link"));
  symlinkSync("/etc/passwd", p("abs-link"));
  symlinkSync("does/not/exist", p("dangling"));
  const long = "d".repeat(60) + "/" + "e".repeat(60) + "/" + "f".repeat(90);
  mkdirSync(p(long.slice(0, long.lastIndexOf("/"))), { recursive: true });
  writeFileSync(p(long), "long path\n");
  writeFileSync(p("ünïcødé-名前.txt"), "utf-8 name\n");
  lchownSync(p("abs-link"), 1000, 1000);
  const fsutil = new FsUtil();
  try {
    // mknod applies the umask; chmod afterwards makes the modes exact.
    await fsutil.mknodWhiteout(p("etc/deleted"));
    await fsutil.mknod(p("fifo"), 0o010644, 0, 0);
    await fsutil.mknod(p("null"), 0o020666, 1, 3);
    await fsutil.mknod(p("loop0"), 0o060660, 7, 0);
    await fsutil.setxattr(p("opaque"), "trusted.overlay.opaque", Buffer.from("y"));
  } finally {
    await fsutil.close();
  }
  chmodSync(p("null"), 0o666);
  chmodSync(p("loop0"), 0o660);
  setTreeMtime(root, mtime);
}

export function setTreeMtime(root: string, mtime: number): void {
  const entries = [...walkTree(root)].reverse(); // children before parents
  for (const e of entries) lutimesSync(e.abs, mtime, mtime);
}

/** One line per entry: everything a layer must preserve. Hardlinks show as "=first path". */
export async function treeManifest(root: string, opts: { mtimes?: boolean } = {}): Promise<string[]> {
  const fsutil = new FsUtil();
  const xattrs = new Map<string, string[]>();
  try {
    for (const r of await fsutil.lxattrs(root)) {
      const list = xattrs.get(r.path) ?? [];
      list.push(`${r.name}=${r.value.toString("hex")}`);
      xattrs.set(r.path, list);
    }
  } finally {
    await fsutil.close();
  }
  const inodes = new Map<number, string>();
  const lines: string[] = [];
  for (const { rel, abs, stat } of walkTree(root)) {
    const type = stat.isDirectory() ? "dir" : stat.isFile() ? "file" : stat.isSymbolicLink() ? "symlink"
      : stat.isFIFO() ? "fifo" : stat.isCharacterDevice() ? "char" : stat.isBlockDevice() ? "block" : "other";
    const parts = [rel, type, (stat.mode & 0o7777).toString(8), `${stat.uid}:${stat.gid}`];
    if (type === "file") {
      const first = inodes.get(stat.ino);
      if (first) parts.push(`=${first}`);
      else {
        if (stat.nlink > 1) inodes.set(stat.ino, rel);
        parts.push(String(stat.size), createHash("sha256").update(readFileSync(abs)).digest("hex").slice(0, 16));
      }
    }
    if (type === "symlink") parts.push(`-> ${readlinkSync(abs)}`);
    if (type === "char" || type === "block") parts.push(`${major(stat.rdev)},${minor(stat.rdev)}`);
    if (opts.mtimes) parts.push(`t=${Math.floor(stat.mtimeMs / 1000)}`);
    parts.push(...(xattrs.get(rel) ?? []).sort());
    lines.push(parts.join(" "));
  }
  return lines;
}
