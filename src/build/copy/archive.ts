/**
 * Local archives for `ADD`: recognised by content as Docker does (gzip, bzip2, xz or zstd magic,
 * then a valid tar header), never by file name. Extraction uses GNU `tar`, which picks the
 * decompressor itself (`bzip2`, `xz`, `zstd` CLIs): no npm package handles all four formats, and
 * GNU tar also refuses `..` and absolute member names.
 */
import { spawn } from "../../internal/lazy-node.js";
import { open } from "node:fs/promises";
import { gunzipSync } from "../../internal/lazy-node.js";
import { CopyError } from "./errors.js";

type Compression = "none" | "gzip" | "bzip2" | "xz" | "zstd";

const HEADER_BYTES = 512;

/** Whether `path` is a regular file holding a (possibly compressed) tar archive. */
export async function isArchive(path: string): Promise<boolean> {
  let head: Buffer;
  const fh = await open(path, "r");
  try {
    if (!(await fh.stat()).isFile()) return false;
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const kind = detectCompression(head);
  if (kind === "none") return isTarHeader(head);
  const tarHead = kind === "gzip" ? gunzipPrefix(head) : await decompressPrefix(kind, path);
  return tarHead !== undefined && isTarHeader(tarHead);
}

export function detectCompression(b: Buffer): Compression {
  if (b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08) return "gzip";
  if (b.length >= 3 && b.subarray(0, 3).toString("latin1") === "BZh") return "bzip2";
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}

/** A tar header block: the stored checksum equals the sum of the block with the checksum field as spaces. */
function isTarHeader(b: Buffer): boolean {
  if (b.length < HEADER_BYTES) return false;
  const block = b.subarray(0, HEADER_BYTES);
  const stored = parseInt(block.subarray(148, 156).toString("latin1").replace(/\0.*$/s, "").trim(), 8);
  if (Number.isNaN(stored)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < HEADER_BYTES; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

function gunzipPrefix(head: Buffer): Buffer | undefined {
  try {
    return gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH: accept a truncated stream */ });
  } catch {
    return undefined;
  }
}

/** The first bytes of a bzip2/xz/zstd file, decompressed by its CLI (stopped once enough came out). */
function decompressPrefix(kind: "bzip2" | "xz" | "zstd", path: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const child = spawn(kind, ["-dc", path], { stdio: ["ignore", "pipe", "ignore"] });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size >= HEADER_BYTES) child.kill();
    });
    child.on("error", () => resolve(undefined));
    child.on("close", () => resolve(size >= HEADER_BYTES ? Buffer.concat(chunks) : undefined));
  });
}

/**
 * Extracts the archive `file` into the existing directory `destDir`, keeping the owners, modes
 * and mtimes stored in it. Extract into a fresh directory when the destination may hold symlinks
 * that must not be followed (copySources does).
 */
export function extractArchive(file: string, destDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ["-x", "-f", file, "-C", destDir, "--numeric-owner", "--same-owner", "--same-permissions"];
    const child = spawn("tar", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", (err) => reject(new CopyError("copy/bad-archive", `running tar for ${file}: ${err.message}`, { cause: err })));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new CopyError("copy/bad-archive", `extracting ${file} failed: ${stderr.trim() || `tar exited with ${code}`}`));
    });
  });
}
