/**
 * Client for native/fsutil.c, the helper for what Node cannot do itself: extended attributes
 * and device nodes. One helper process serves a whole layer; commands are pipelined over its
 * stdin and answered in order (the NUL-separated protocol is documented in native/fsutil.c).
 */
import type { ChildProcessByStdio } from "node:child_process";
import { spawn } from "../../internal/lazy-node.js";
import type { Readable, Writable } from "node:stream";
import { findFsutil } from "../../internal/native-build.js";
import { TsbuildError } from "../../errors/index.js";

/** One extended attribute of one path; `path` is relative to the walked root ("." for the root). */
export interface XattrRecord {
  path: string;
  name: string;
  value: Buffer;
}

/** Finds the helper binary: `TSBUILD_FSUTIL_PATH`, else `<package root>/native/build/tsbuild-fsutil`. */
export function fsutilPath(env: NodeJS.ProcessEnv = process.env): string {
  const found = findFsutil(env);
  if (found) return found;
  throw new TsbuildError(
    "layer/fsutil-missing",
    "tsbuild-fsutil is not built; run `node scripts/build-native.mjs` (needs a C compiler) or set TSBUILD_FSUTIL_PATH",
  );
}

interface Pending {
  records: XattrRecord[];
  resolve: (r: XattrRecord[]) => void;
  reject: (e: Error) => void;
}

/** A running helper. Call `close()` when done; commands after a failure of the process reject. */
export class FsUtil {
  private readonly proc: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly pending: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private fields: Buffer[] = [];
  private stderr = "";
  private dead: Error | undefined;

  constructor(binary = fsutilPath()) {
    this.proc = spawn(binary, [], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdout.on("data", (d: Buffer) => this.onData(d));
    this.proc.stderr.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.proc.stdin.on("error", () => {}); // reported through "close" below
    this.proc.on("error", (err) => this.fail(err));
    this.proc.on("close", (code) => {
      if (this.pending.length > 0 || code !== 0) {
        this.fail(new TsbuildError("layer/fsutil-failed", `tsbuild-fsutil exited with ${code}: ${this.stderr.trim()}`));
      }
    });
  }

  /** Every xattr of every entry under `root`, without following symlinks. */
  lxattrs(root: string): Promise<XattrRecord[]> {
    return this.send(["lxattrs", root]);
  }

  async setxattr(path: string, name: string, value: Uint8Array): Promise<void> {
    await this.send(["setxattr", path, name, Buffer.from(value).toString("hex")]);
  }

  /** mknod with the full st_mode (type bits included), as for character/block devices and fifos. */
  async mknod(path: string, mode: number, major: number, minor: number): Promise<void> {
    await this.send(["mknod", path, mode.toString(8), String(major), String(minor)]);
  }

  /** An overlayfs whiteout: a character device 0/0. */
  async mknodWhiteout(path: string): Promise<void> {
    await this.send(["mknod-whiteout", path]);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null || this.dead) return resolve();
      this.proc.once("close", () => resolve());
      this.proc.stdin.end();
    });
  }

  private send(fields: string[]): Promise<XattrRecord[]> {
    if (this.dead) return Promise.reject(this.dead);
    for (const f of fields) {
      if (f.includes("\0")) return Promise.reject(new TsbuildError("layer/bad-path", `path contains NUL: ${JSON.stringify(f)}`));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ records: [], resolve, reject });
      this.proc.stdin.write(Buffer.concat(fields.map((f) => Buffer.from(f + "\0"))));
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let nul: number;
    while ((nul = this.buf.indexOf(0)) >= 0) {
      this.fields.push(this.buf.subarray(0, nul));
      this.buf = this.buf.subarray(nul + 1);
      this.consume();
    }
  }

  /** Turns complete field groups into records and replies. */
  private consume(): void {
    const head = this.fields[0]?.toString();
    const cur = this.pending[0];
    if (!cur) return;
    if (head === "x" && this.fields.length === 4) {
      const [, path, name, hex] = this.fields as [Buffer, Buffer, Buffer, Buffer];
      cur.records.push({ path: path.toString(), name: name.toString(), value: Buffer.from(hex.toString(), "hex") });
      this.fields = [];
    } else if (head === "ok") {
      this.pending.shift();
      this.fields = [];
      cur.resolve(cur.records);
    } else if (head === "err" && this.fields.length === 2) {
      this.pending.shift();
      const msg = this.fields[1]!.toString();
      this.fields = [];
      cur.reject(new TsbuildError("layer/fsutil-failed", msg));
    }
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}
